/** SigV4 verification, shared by every protocol on the port (EC2 Query, data plane, EBS direct). */
export {
  verifySigV4, readCredentialScope,
  type SignedRequest, type AccessKey, type AccessKeyLookup, type VerifiedCaller, type VerifyOptions,
  type CredentialScope, type HeaderMap,
} from './sigv4.js';
export { AUTH_ERROR_STATUS, AuthError, isAuthError, type AuthErrorCode } from './auth-errors.js';
