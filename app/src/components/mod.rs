//! Pieces several pages use.

pub mod form;
