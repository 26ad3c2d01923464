//! The ids a load run created, kept compactly: [`Compact`] stores them end to end in one string
//! (no allocation per id), and [`Spilling`] moves them to an anonymous temporary file past a
//! threshold, so a cycle of 1,000,000 users keeps as little in memory as one of 10,000. Cleanup
//! reads them back in the order they were kept.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// Ids in one string, with where each ends.
#[derive(Debug, Default)]
pub struct Compact {
    text: String,
    ends: Vec<u32>,
}

impl Compact {
    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len() as u32);
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The `i`th id.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.text[start..end])
    }

    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// Ids kept in memory up to `threshold`, then written to a temporary file (removed from the
/// directory as soon as it is created, so nothing is left behind whatever happens).
pub struct Spilling {
    memory: Compact,
    threshold: usize,
    file: Option<BufWriter<File>>,
    spilled: u64,
}

impl Spilling {
    /// At most `threshold` ids in memory (at least one).
    pub fn new(threshold: usize) -> Self {
        Spilling {
            memory: Compact::default(),
            threshold: threshold.max(1),
            file: None,
            spilled: 0,
        }
    }

    /// Keeps `id`. Should the file fail, the ids stay in memory from then on (and the error
    /// is returned once).
    pub fn push(&mut self, id: &str) -> std::io::Result<()> {
        let spilled = if self.memory.len() >= self.threshold {
            self.spill()
        } else {
            Ok(())
        };
        self.memory.push(id);
        spilled
    }

    /// Ids kept so far.
    pub fn len(&self) -> u64 {
        self.spilled + self.memory.len() as u64
    }

    /// How many ids are in the file.
    #[cfg(test)]
    pub fn spilled(&self) -> u64 {
        self.spilled
    }

    fn spill(&mut self) -> std::io::Result<()> {
        let written = self.write_out();
        match written {
            Ok(()) => {
                self.spilled += self.memory.len() as u64;
                self.memory.clear();
                Ok(())
            }
            Err(e) => {
                // Only whole flushes count: what the file holds past `spilled` is never read.
                self.threshold = usize::MAX;
                Err(e)
            }
        }
    }

    fn write_out(&mut self) -> std::io::Result<()> {
        if self.file.is_none() {
            self.file = Some(BufWriter::new(anonymous_file()?));
        }
        let out = self.file.as_mut().expect("just opened");
        for id in self.memory.iter() {
            out.write_all(&(id.len() as u32).to_le_bytes())?;
            out.write_all(id.as_bytes())?;
        }
        out.flush()
    }

    /// Every id, in the order kept: those in the file first, then those in memory.
    pub fn into_iter(self) -> std::io::Result<impl Iterator<Item = Box<str>> + Send> {
        let mut file = match self.file {
            Some(w) => {
                let mut f = w.into_inner().map_err(|e| e.into_error())?;
                f.seek(SeekFrom::Start(0))?;
                Some(BufReader::new(f))
            }
            None => None,
        };
        let mut left = self.spilled;
        let from_file = std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let r = file.as_mut()?;
            let mut len = [0u8; 4];
            r.read_exact(&mut len).ok()?;
            let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
            r.read_exact(&mut bytes).ok()?;
            left -= 1;
            String::from_utf8(bytes).ok().map(String::into_boxed_str)
        });
        let memory = self.memory;
        let from_memory = (0..memory.len()).map(move |i| Box::from(memory.get(i).unwrap_or("")));
        Ok(from_file.chain(from_memory))
    }
}

/// A read-write file in the temporary directory with no name left in it.
fn anonymous_file() -> std::io::Result<File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "scimcheck-ids-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    // On Unix the open file outlives its name; elsewhere the name goes when the run ends.
    if cfg!(unix) {
        let _ = std::fs::remove_file(&path);
    }
    Ok(file)
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

    #[test]
    fn ids_past_the_threshold_go_to_a_file_and_come_back_in_order() {
        let mut s = Spilling::new(3);
        let ids: Vec<String> = (0..10).map(|i| format!("id-{i}\nwith a newline")).collect();
        for id in &ids {
            s.push(id).unwrap();
        }
        assert_eq!(s.len(), 10);
        assert_eq!(s.spilled(), 9, "three spills of three; the tenth in memory");
        let back: Vec<String> = s.into_iter().unwrap().map(String::from).collect();
        assert_eq!(back, ids);
    }

    #[test]
    fn below_the_threshold_nothing_is_written() {
        let mut s = Spilling::new(100);
        s.push("a").unwrap();
        s.push("b").unwrap();
        assert_eq!(s.spilled(), 0);
        let back: Vec<Box<str>> = s.into_iter().unwrap().collect();
        assert_eq!(back, vec![Box::from("a"), Box::from("b")]);
    }
}
