//! Bulk files line by line, gzip decoded on the fly. A ClinVar `variant_summary.txt.gz` (about
//! 400 MB compressed, several GB of text) or an Ensembl GTF passes through in a few buffers;
//! the parsers keep only our genes' rows.

use std::path::Path;
use std::pin::Pin;

use async_compression::tokio::bufread::GzipDecoder;
use futures::TryStreamExt;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio_util::io::StreamReader;

use crate::FetchError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
}

impl Compression {
    /// By the file name, as the providers name them.
    pub fn of(name: &str) -> Self {
        if name.ends_with(".gz") {
            Compression::Gzip
        } else {
            Compression::None
        }
    }
}

pub struct LineStream {
    origin: String,
    reader: Pin<Box<dyn AsyncBufRead + Send>>,
    raw: Vec<u8>,
    line: String,
    line_number: u64,
}

const BUFFER: usize = 256 * 1024;

impl LineStream {
    pub(crate) fn from_response(
        url: &str,
        response: reqwest::Response,
        compression: Compression,
    ) -> Self {
        let body = response.bytes_stream().map_err(std::io::Error::other);
        let reader = BufReader::with_capacity(BUFFER, StreamReader::new(body));
        Self::from_reader(url, reader, compression)
    }

    /// A local file (benchmarks parse generated bulk files through the same code).
    pub async fn open(path: &Path, compression: Compression) -> Result<Self, FetchError> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| FetchError::Config(format!("{}: {e}", path.display())))?;
        let reader = BufReader::with_capacity(BUFFER, file);
        Ok(Self::from_reader(
            &path.display().to_string(),
            reader,
            compression,
        ))
    }

    pub fn from_reader(
        origin: &str,
        reader: impl AsyncBufRead + Send + 'static,
        compression: Compression,
    ) -> Self {
        let reader: Pin<Box<dyn AsyncBufRead + Send>> = match compression {
            Compression::None => Box::pin(reader),
            Compression::Gzip => {
                let mut decoder = GzipDecoder::new(reader);
                // bgzip and concatenated gzip files are several members.
                decoder.multiple_members(true);
                Box::pin(BufReader::with_capacity(BUFFER, decoder))
            }
        };
        Self {
            origin: origin.to_string(),
            reader,
            raw: Vec::with_capacity(4096),
            line: String::with_capacity(4096),
            line_number: 0,
        }
    }

    /// The next line without its line ending, or None at the end. Invalid UTF-8 is replaced
    /// (a stray byte in a free-text column must not fail a file). A broken stream (a truncated
    /// gzip member, a reset connection) is an error, never a silent end.
    pub async fn next_line(&mut self) -> Result<Option<&str>, FetchError> {
        self.raw.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.raw)
            .await
            .map_err(|e| FetchError::Transport {
                url: self.origin.clone(),
                message: format!("stream broken after line {}: {e}", self.line_number),
            })?;
        if read == 0 {
            return Ok(None);
        }
        self.line_number += 1;
        while matches!(self.raw.last(), Some(b'\n' | b'\r')) {
            self.raw.pop();
        }
        self.line.clear();
        self.line.push_str(&String::from_utf8_lossy(&self.raw));
        Ok(Some(&self.line))
    }

    pub fn line_number(&self) -> u64 {
        self.line_number
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    async fn all_lines(mut s: LineStream) -> Result<Vec<String>, FetchError> {
        let mut out = Vec::new();
        while let Some(line) = s.next_line().await? {
            out.push(line.to_string());
        }
        Ok(out)
    }

    #[tokio::test]
    async fn lines_of_plain_and_gzip_text() {
        let text = "a\tb\r\nc\n\nlast";
        let plain = LineStream::from_reader("t", text.as_bytes(), Compression::None);
        assert_eq!(all_lines(plain).await.unwrap(), ["a\tb", "c", "", "last"]);
        let gz = gzip(text);
        let mut twice = gz.clone();
        twice.extend_from_slice(&gz);
        let z = LineStream::from_reader("t", std::io::Cursor::new(twice), Compression::Gzip);
        assert_eq!(all_lines(z).await.unwrap().len(), 7);
    }

    #[tokio::test]
    async fn a_truncated_gzip_stream_is_an_error() {
        let text = "x\n".repeat(10_000);
        let gz = gzip(&text);
        let cut = gz[..gz.len() / 2].to_vec();
        let z = LineStream::from_reader("t", std::io::Cursor::new(cut), Compression::Gzip);
        let err = all_lines(z).await.unwrap_err();
        assert!(err.to_string().contains("stream broken"), "{err}");
    }
}
