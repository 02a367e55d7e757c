//! Finding auto-id documents by the sequence numbers their ids encode.

use std::sync::Arc;

use tantivy::query::{
    BitSetDocSet, ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight,
};
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, TantivyError};

use crate::schema::SEQ_FIELD;

/// Matches the documents whose `_seq` column holds one of a set of sequence numbers: the
/// auto-id documents with the given generated ids. One pass over each segment's column,
/// skipped for segments whose sequence numbers are all outside the set's range.
#[derive(Debug, Clone)]
pub struct GeneratedIdQuery {
    /// Sorted, without duplicates.
    seqs: Arc<[u64]>,
}

impl GeneratedIdQuery {
    /// A query for the documents written at `seqs`.
    pub fn new(seqs: impl IntoIterator<Item = u64>) -> GeneratedIdQuery {
        let mut seqs: Vec<u64> = seqs.into_iter().collect();
        seqs.sort_unstable();
        seqs.dedup();
        GeneratedIdQuery { seqs: seqs.into() }
    }
}

impl Query for GeneratedIdQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(GeneratedIdWeight {
            seqs: self.seqs.clone(),
        }))
    }
}

struct GeneratedIdWeight {
    seqs: Arc<[u64]>,
}

impl GeneratedIdWeight {
    fn matching_docs(&self, reader: &SegmentReader) -> tantivy::Result<Vec<DocId>> {
        let (Some(first), Some(last)) = (self.seqs.first(), self.seqs.last()) else {
            return Ok(Vec::new());
        };
        let mut docs = Vec::new();
        let Some(column) = reader.fast_fields().column_opt::<u64>(SEQ_FIELD)? else {
            return Ok(docs);
        };
        if column.max_value() < *first || column.min_value() > *last {
            return Ok(docs);
        }
        column.get_docids_for_value_range(*first..=*last, 0..reader.max_doc(), &mut docs);
        if self.seqs.len() > 1 {
            docs.retain(|doc| {
                column
                    .values_for_doc(*doc)
                    .any(|seq| self.seqs.binary_search(&seq).is_ok())
            });
        }
        Ok(docs)
    }
}

impl Weight for GeneratedIdWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut matching = BitSet::with_max_value(reader.max_doc());
        for doc in self.matching_docs(reader)? {
            matching.insert(doc);
        }
        Ok(Box::new(ConstScorer::new(
            BitSetDocSet::from(matching),
            boost,
        )))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        Ok(Explanation::new("_id (generated)", scorer.score()))
    }
}
