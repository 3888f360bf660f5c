/**
 * The EC2 Query protocol layer: HTTP parameters → typed input, typed output → EC2 XML, errors.
 * SigV4 is protocol/sigv4/, shared with the other protocols.
 * It knows nothing of volumes or storage; the server and the action handlers sit on top of it.
 */
export { decodeEc2Request, decodeQuery, type DecodedQuery, type Ec2Request, type QueryParams } from './query-decoder.js';
export { encodeResponse, encodeResponseWithModel, encodeError, escapeXml, EC2_XML_NAMESPACE, EC2_XML_CONTENT_TYPE } from './xml-encoder.js';
export { Ec2ProtocolError, isEc2ProtocolError, PROTOCOL_ERROR_STATUS, type ProtocolErrorCode } from './protocol-errors.js';
export { parseFormPairs } from './form-urlencoded.js';
export { EC2_ACTIONS, EC2_MODEL } from './model.generated.js';
export type { ServiceModel } from './shape-model.js';
export type * from './types.generated.js';
