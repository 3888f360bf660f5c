/**
 * NBD's STARTTLS with pre-shared keys (TLS-PSK), as qemu speaks it with
 * `--object tls-creds-psk,endpoint=client,dir=DIR,username=ID`: DIR/keys.psk holds lines of
 * `identity:hex-key`. Each identity is an access key id; its key is derived from the secret, so
 * a client that knows its secret can compute it (`ebs-sim nbd-psk` prints the file).
 */
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

export interface NbdTlsOptions {
  /** The key for a PSK identity, or undefined: the handshake then fails. */
  pskKey(identity: string): Buffer | undefined;
  /** How long the TLS handshake may take before the connection is dropped. */
  handshakeTimeoutMs?: number;
}

/** Why 'v1': a later derivation can change the label and old key files fail loudly, not oddly. */
const DERIVATION_LABEL = 'ebs-sim NBD TLS-PSK v1';

/** The 32-byte key of an access key's PSK identity: HMAC-SHA256(secret, label). */
export function derivePskKey(secretAccessKey: string): Buffer {
  return createHmac('sha256', secretAccessKey).update(DERIVATION_LABEL).digest();
}

/** One line of a keys.psk file for qemu (GnuTLS psktool's format). */
export function pskFileLine(identity: string, key: Buffer): string {
  return `${identity}:${key.toString('hex')}`;
}

/**
 * PSK suites only: no certificates anywhere. OpenSSL leaves PSK out of its defaults, so they are
 * named. ECDHE/DHE suites give forward secrecy; GnuTLS's NORMAL (qemu's default) offers them.
 */
const PSK_CIPHERS = [
  'ECDHE-PSK-CHACHA20-POLY1305',
  'DHE-PSK-AES256-GCM-SHA384',
  'DHE-PSK-AES128-GCM-SHA256',
  'ECDHE-PSK-AES256-CBC-SHA384',
  'ECDHE-PSK-AES128-CBC-SHA256',
  'PSK-AES256-GCM-SHA384',
  'PSK-AES128-GCM-SHA256',
].join(':');

export class TlsHandshakeError extends Error {
  readonly code = 'NBD_TLS_FAILED';
}

/**
 * Turns the plain socket into a TLS server socket and waits for the handshake. Resolves with the
 * secure socket and the identity the client proved it holds the key of.
 */
export async function acceptTls(plain: Socket, opts: NbdTlsOptions): Promise<{ socket: TLSSocket; identity: string }> {
  let identity: string | undefined;
  const secure = new TLSSocket(plain, {
    isServer: true,
    // TLS 1.3 would resume with PSKs of its own; qemu's PSK credentials speak 1.2.
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    ciphers: PSK_CIPHERS,
    dhparam: 'auto',
    pskCallback: (_socket: TLSSocket, id: string) => {
      const key = opts.pskKey(id);
      if (key) identity = id;
      return key ?? null;
    },
  } as ConstructorParameters<typeof TLSSocket>[1]);
  const timeoutMs = opts.handshakeTimeoutMs ?? 10_000;
  const timer = setTimeout(() => secure.destroy(new TlsHandshakeError(`TLS handshake took longer than ${timeoutMs} ms`)), timeoutMs);
  try {
    await once(secure, 'secure');
  } catch (err) {
    secure.destroy();
    throw new TlsHandshakeError(`TLS handshake failed: ${(err as Error).message}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
  if (identity === undefined) {
    secure.destroy();
    throw new TlsHandshakeError('TLS handshake finished without a known PSK identity');
  }
  return { socket: secure, identity };
}
