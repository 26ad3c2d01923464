//! The one spill mechanism: records of a few strings appended to an anonymous temporary file
//! (removed from the directory as soon as it is created, so nothing is left behind whatever
//! happens) and read back in batches, oldest first. The ledger moves created resources there
//! past a threshold, so a load cycle of 1,000,000 users keeps as little in memory as one of
//! 10,000.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};

/// Records of `N` strings in a temporary file (opened on the first write), with a read cursor.
#[derive(Debug, Default)]
pub struct SpillFile<const N: usize> {
    file: Option<File>,
    /// Records written.
    written: u64,
    /// Records read back with [`SpillFile::take`].
    taken: u64,
    /// Where the next record to take starts, in bytes.
    cursor: u64,
}

impl<const N: usize> SpillFile<N> {
    /// Appends `records` (all of them or, on an error, none that will ever be read).
    pub fn append<'a>(
        &mut self,
        records: impl IntoIterator<Item = [&'a str; N]>,
    ) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        let mut count = 0u64;
        for record in records {
            for field in record {
                bytes.extend_from_slice(&(field.len() as u32).to_le_bytes());
                bytes.extend_from_slice(field.as_bytes());
            }
            count += 1;
        }
        if count == 0 {
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(anonymous_file()?);
        }
        let file = self.file.as_mut().expect("just opened");
        let end = file.seek(SeekFrom::End(0))?;
        if let Err(e) = file.write_all(&bytes) {
            // Only whole appends count: cut off what was written of this one.
            let _ = file.set_len(end);
            return Err(e);
        }
        self.written += count;
        Ok(())
    }

    /// Records written and not taken back yet.
    pub fn left(&self) -> u64 {
        self.written - self.taken
    }

    /// Reads back the next `n` records (fewer at the end), oldest first; they are not read
    /// again.
    pub fn take(&mut self, n: usize) -> std::io::Result<Vec<[String; N]>> {
        let n = (n as u64).min(self.left());
        let (records, read) = self.read(n)?;
        self.taken += records.len() as u64;
        self.cursor += read;
        Ok(records)
    }

    /// Every record not taken back yet, oldest first, leaving them to [`SpillFile::take`].
    pub fn peek_left(&mut self) -> std::io::Result<Vec<[String; N]>> {
        self.read(self.left()).map(|(records, _)| records)
    }

    /// Up to `n` records from the cursor, and how many bytes they took.
    fn read(&mut self, n: u64) -> std::io::Result<(Vec<[String; N]>, u64)> {
        let Some(file) = self.file.as_mut().filter(|_| n > 0) else {
            return Ok((Vec::new(), 0));
        };
        file.seek(SeekFrom::Start(self.cursor))?;
        let mut r = BufReader::new(&*file);
        let mut out = Vec::with_capacity(n as usize);
        let mut read = 0u64;
        for _ in 0..n {
            let mut record: [String; N] = std::array::from_fn(|_| String::new());
            for field in &mut record {
                let mut len = [0u8; 4];
                r.read_exact(&mut len)?;
                let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
                r.read_exact(&mut bytes)?;
                read += 4 + bytes.len() as u64;
                *field = String::from_utf8(bytes)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            }
            out.push(record);
        }
        Ok((out, read))
    }
}

/// A read-write file in the temporary directory with no name left in it.
fn anonymous_file() -> std::io::Result<File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "scimcheck-spill-{}-{}",
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
    fn records_come_back_in_order_in_batches() {
        let mut f = SpillFile::<2>::default();
        let records: Vec<[String; 2]> = (0..10)
            .map(|i| [format!("/Users/{i}\nwith a newline"), format!("ü{i}")])
            .collect();
        f.append(records[..4].iter().map(|[a, b]| [a.as_str(), b.as_str()]))
            .unwrap();
        f.append(records[4..].iter().map(|[a, b]| [a.as_str(), b.as_str()]))
            .unwrap();
        assert_eq!(f.left(), 10);
        assert_eq!(f.take(3).unwrap(), records[..3]);
        assert_eq!(
            f.peek_left().unwrap(),
            records[3..],
            "peeking moves nothing"
        );
        assert_eq!(f.take(5).unwrap(), records[3..8]);
        f.append([["/Users/x", ""]]).unwrap();
        assert_eq!(f.left(), 3);
        let rest = f.take(100).unwrap();
        assert_eq!(rest.len(), 3);
        assert_eq!(rest[2], ["/Users/x".to_string(), String::new()]);
        assert!(f.take(1).unwrap().is_empty());
    }

    #[test]
    fn nothing_is_written_until_something_is_appended() {
        let mut f = SpillFile::<1>::default();
        f.append(std::iter::empty()).unwrap();
        assert!(f.file.is_none());
        assert!(f.take(5).unwrap().is_empty());
    }
}
