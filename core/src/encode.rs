//! Consensus encoding: fixed-width little-endian integers and length-prefixed
//! byte strings, written by hand (serde is for JSON only).
//!
//! Decoding is strict: [`Decode::decode`] rejects trailing bytes, and each type
//! rejects lengths over its limits and non-canonical values.

use alloc::vec::Vec;
use core::fmt;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the value did.
    UnexpectedEnd { needed: usize, remaining: usize },
    /// Bytes were left after a complete value.
    TrailingBytes { count: usize },
    /// A length prefix is over the limit for its field.
    LengthOverLimit {
        field: &'static str,
        length: u64,
        limit: u64,
    },
    /// A value that has exactly one allowed encoding was encoded otherwise.
    NonCanonical { field: &'static str, value: u64 },
    /// A version this implementation does not know.
    UnknownVersion { field: &'static str, version: u32 },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd { needed, remaining } => {
                write!(
                    f,
                    "unexpected end of input: needed {needed} bytes, {remaining} left"
                )
            }
            Self::TrailingBytes { count } => write!(f, "{count} trailing bytes after the value"),
            Self::LengthOverLimit {
                field,
                length,
                limit,
            } => {
                write!(f, "{field} length {length} is over the limit {limit}")
            }
            Self::NonCanonical { field, value } => write!(f, "non-canonical {field}: {value}"),
            Self::UnknownVersion { field, version } => {
                write!(f, "unknown {field} version {version}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

/// A cursor over input bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    /// Takes the next `len` bytes.
    pub fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        if len > self.bytes.len() {
            return Err(DecodeError::UnexpectedEnd {
                needed: len,
                remaining: self.bytes.len(),
            });
        }
        let (head, tail) = self.bytes.split_at(len);
        self.bytes = tail;
        Ok(head)
    }

    /// Takes the next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Reads a little-endian u32.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        self.array().map(u32::from_le_bytes)
    }

    /// Reads a little-endian u64.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        self.array().map(u64::from_le_bytes)
    }

    /// Reads a u32 length and checks it against `limit` before anything is allocated.
    pub fn length(&mut self, field: &'static str, limit: usize) -> Result<usize, DecodeError> {
        let length = self.u32()?;
        if length as u64 > limit as u64 {
            return Err(DecodeError::LengthOverLimit {
                field,
                length: length.into(),
                limit: limit as u64,
            });
        }
        Ok(length as usize)
    }

    /// Fails unless every byte was consumed.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                count: self.bytes.len(),
            })
        }
    }
}

/// A type with a consensus encoding.
pub trait Encode {
    /// Appends the encoding to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// The encoding as a new vector.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }
}

/// A type that can be read back from its consensus encoding.
pub trait Decode: Sized {
    /// Reads one value from the reader, leaving what follows.
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Reads exactly one value: trailing bytes are an error.
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let value = Self::decode_from(&mut reader)?;
        reader.finish()?;
        Ok(value)
    }
}

/// Appends a little-endian u32.
pub fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends a little-endian u64.
pub fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends a u32 length prefix; lengths are bounded by the block size long before u32.
pub fn put_length(out: &mut Vec<u8>, length: usize) {
    put_u32(
        out,
        u32::try_from(length).expect("encoded lengths are bounded far below u32::MAX"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_rejects_short_input_and_trailing_bytes() {
        let mut reader = Reader::new(&[1, 2, 3]);
        assert_eq!(
            reader.u32(),
            Err(DecodeError::UnexpectedEnd {
                needed: 4,
                remaining: 3
            })
        );
        let mut reader = Reader::new(&[1, 0, 0, 0, 9]);
        assert_eq!(reader.u32(), Ok(1));
        assert_eq!(
            reader.finish(),
            Err(DecodeError::TrailingBytes { count: 1 })
        );
    }

    #[test]
    fn length_over_limit_is_rejected_before_allocation() {
        let mut reader = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            reader.length("from", 10),
            Err(DecodeError::LengthOverLimit {
                field: "from",
                length: u32::MAX.into(),
                limit: 10
            })
        );
    }
}
