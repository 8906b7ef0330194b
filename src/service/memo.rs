//! A bounded map of answers kept for as long as the published data they were computed from: the
//! [`Snapshot`](crate::service::snapshot::Snapshot) that owns a memo is dropped when an approval or a
//! catalogue change moves the data version, so nothing in it is invalidated piecemeal. An answer may be
//! computed from data newer than the snapshot's versions (a write landed meanwhile), never older.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// How many answers one memo keeps; beyond it the memo starts afresh, so callers asking odd questions
/// cannot grow it without bound.
const MAX_ANSWERS: usize = 4096;

/// Answers by question.
#[derive(Debug)]
pub struct Memo<K, V> {
    answers: Mutex<HashMap<K, V>>,
    capacity: usize,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo::bounded(MAX_ANSWERS)
    }
}

impl<K, V> Memo<K, V> {
    /// A memo that starts afresh beyond `capacity` answers.
    pub fn bounded(capacity: usize) -> Self {
        Memo {
            answers: Mutex::new(HashMap::new()),
            capacity,
        }
    }
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    /// The answer kept for `key`, if any.
    pub fn get(&self, key: &K) -> Option<V> {
        self.answers.lock().ok()?.get(key).cloned()
    }

    /// Keeps `value` as the answer for `key`.
    pub fn put(&self, key: K, value: V) {
        if let Ok(mut memo) = self.answers.lock() {
            if memo.len() >= self.capacity {
                memo.clear();
            }
            memo.insert(key, value);
        }
    }
}
