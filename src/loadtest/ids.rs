//! The ids a load run keeps for group memberships, compactly: [`Compact`] stores them end to
//! end in one string (no allocation per id). What cleanup needs is in the client's ledger,
//! which spills to a temporary file past a threshold (`run::spill`).

/// Ids in one string, with where each ends.
#[derive(Debug, Default)]
pub struct Compact {
    text: String,
    ends: Vec<u32>,
}

impl Compact {
    /// Keeps `id` after the others.
    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len() as u32);
    }

    /// How many ids are kept.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The `i`th id.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.text[start..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_ids_read_back_by_index() {
        let mut c = Compact::default();
        for id in ["2819c223-7f76-453a-919d-413861904646", "7", "", "ü"] {
            c.push(id);
        }
        assert_eq!(c.len(), 4);
        assert_eq!(c.get(0), Some("2819c223-7f76-453a-919d-413861904646"));
        assert_eq!(c.get(1), Some("7"));
        assert_eq!(c.get(2), Some(""));
        assert_eq!(c.get(3), Some("ü"));
        assert_eq!(c.get(4), None);
    }
}
