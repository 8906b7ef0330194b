//! Who the caller is and what they may do: identities from bearer tokens, the one policy module that
//! decides every read and write, and the small-cell suppression that restricted data goes through.

pub mod authenticate;
pub mod identity;
pub mod policy;
pub mod suppression;
pub mod token;

pub use identity::{Identity, Member, Role};
