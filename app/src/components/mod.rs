//! Pieces several pages use.

pub mod form;
pub mod url;
