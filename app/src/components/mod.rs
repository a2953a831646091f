//! Pieces several pages use.

pub mod confirm;
pub mod copy;
pub mod failure;
pub mod form;
pub mod links;
pub mod live;
pub mod url;
