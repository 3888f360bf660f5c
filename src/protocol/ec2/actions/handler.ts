/**
 * An action handler: typed input (already decoded) → one call of a resource's service → typed
 * output. The EC2 plugin does everything else (auth, decoding, DryRun's final answer, XML, errors).
 */
import type { CallerContext, Services } from '../../../service/services.js';
import type { Ec2Action, Ec2Input, Ec2Output } from '../types.generated.js';

export type Handler<A extends Ec2Action> = (services: Services, ctx: CallerContext, input: Ec2Input[A]) => Promise<Ec2Output[A]> | Ec2Output[A];

export type ActionTable = { [A in Ec2Action]?: Handler<A> };

/** Paging parameters as the services take them. */
export const page = (i: { MaxResults?: number; NextToken?: string }) => ({ maxResults: i.MaxResults, nextToken: i.NextToken });
