//! The streaming parser: reads a richiesta with quick-xml from any `BufRead`, one `<Domanda>` at a
//! time, into a small bounded tree ([`Tree`]) that keeps for every element its name, attributes,
//! text and the line and column of its start tag. The whole richiesta is never in memory.
//!
//! Plainly written domande (nearly all) are read by a fast path over a look-ahead window of the
//! reader ([`fast`]); anything unusual in a domanda is left to quick-xml, so that both give the
//! same tree and the same findings (checked by the tests, fast path on and off).
//!
//! Everything that makes the *file* unacceptable (not well-formed, DOCTYPE, unknown entities,
//! wrong root/namespace/versione, encoding, limits) ends the stream with a file-level finding.
//!
//! The parts: [`tag`] (element names), [`tree`] (the tree of one domanda and how it is built),
//! [`reader`] (positions, the byte budget of an event, the look-ahead window), [`text`]
//! (decoding), [`ns`] (namespace scopes), [`fast`] (the fast path), [`stream`] (the loop).

mod fast;
mod ns;
mod reader;
mod stream;
mod tag;
mod text;
mod tree;

#[cfg(test)]
mod tests;

pub use reader::CountingReader;
pub use stream::stream;
pub use tag::Tag;
pub use tree::{Children, Node, NodeId, Tree};
