//! One module per group of Elasticsearch endpoints.

pub mod bulk;
pub mod cat;
pub mod cluster;
pub mod data_streams;
pub mod documents;
pub mod indices;
pub mod root;
pub mod search;
pub mod templates;
mod write;
