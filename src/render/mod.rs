//! Renderers: each is a pure function of a [`Trace`](crate::trace::Trace)
//! and its options.

pub mod json;
pub mod text;
