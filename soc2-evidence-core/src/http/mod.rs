//! The HTTP toolkit that collectors (ours and plugin authors') build on.
//!
//! It gives every collector the same mechanics, so each one only has to know its API's
//! shapes: base-URL override, authentication, timeouts, bounded retries with jittered backoff
//! that honour `Retry-After` and vendor reset headers, `Link` and cursor pagination, raw-body
//! digests for provenance, secrets that never print, and typed errors naming the endpoint.

mod error;
mod secret;

pub use error::HttpError;
pub use secret::Secret;
