//! Pieces several screens draw and drive the same way.

pub(crate) mod list;
