//! The small subset of CBOR (RFC 8949) that Entente uses, in its deterministic form.
//!
//! Only unsigned integers, byte strings, text strings, definite-length arrays and null appear.
//! Every decoder re-encodes what it read and compares, so exactly one byte string is accepted
//! for each value: what is signed is what is stored is what is verified.

use minicbor::data::Type;
use minicbor::{Decoder, Encoder};

/// Why bytes are not a well-formed Entente structure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {at}")]
pub struct CborError {
    pub at: usize,
    pub what: String,
}

/// An encoder into a growable buffer, which cannot fail.
pub(crate) struct Enc(Encoder<Vec<u8>>);

// Writing to a Vec<u8> never fails, so the Results minicbor returns carry no information.
macro_rules! infallible {
    ($e:expr) => {{
        let _ = $e;
    }};
}

impl Enc {
    pub fn new() -> Self {
        Self(Encoder::new(Vec::new()))
    }
    pub fn array(&mut self, len: usize) -> &mut Self {
        infallible!(self.0.array(len as u64));
        self
    }
    pub fn u64(&mut self, x: u64) -> &mut Self {
        infallible!(self.0.u64(x));
        self
    }
    pub fn bytes(&mut self, x: &[u8]) -> &mut Self {
        infallible!(self.0.bytes(x));
        self
    }
    pub fn str(&mut self, x: &str) -> &mut Self {
        infallible!(self.0.str(x));
        self
    }
    pub fn null(&mut self) -> &mut Self {
        infallible!(self.0.null());
        self
    }
    pub fn strs(&mut self, xs: &[String]) -> &mut Self {
        self.array(xs.len());
        for x in xs {
            self.str(x);
        }
        self
    }
    pub fn finish(self) -> Vec<u8> {
        self.0.into_writer()
    }
}

/// A decoder that turns every failure into a [`CborError`] naming the field.
pub(crate) struct Dec<'b>(Decoder<'b>);

impl<'b> Dec<'b> {
    pub fn new(bytes: &'b [u8]) -> Self {
        Self(Decoder::new(bytes))
    }

    fn err(&self, what: impl Into<String>) -> CborError {
        CborError {
            at: self.0.position(),
            what: what.into(),
        }
    }

    fn wrap<T>(&self, field: &str, r: Result<T, minicbor::decode::Error>) -> Result<T, CborError> {
        r.map_err(|e| self.err(format!("{field}: {e}")))
    }

    /// A definite-length array of exactly `len` items.
    pub fn array(&mut self, field: &str, len: usize) -> Result<(), CborError> {
        let n = self.array_len(field, len)?;
        if n != len {
            return Err(self.err(format!("{field}: expected {len} items, found {n}")));
        }
        Ok(())
    }

    /// Deterministic encoding (RFC 8949 §4.2.1): every head uses its shortest form. Checked for
    /// each head, so that no decoder anywhere accepts two encodings of the same value.
    fn shortest(
        &self,
        field: &str,
        start: usize,
        value: u64,
        payload: usize,
    ) -> Result<(), CborError> {
        let head = match value {
            0..=23 => 1,
            24..=0xff => 2,
            0x100..=0xffff => 3,
            0x1_0000..=0xffff_ffff => 5,
            _ => 9,
        };
        if self.0.position() - start != head + payload {
            return Err(CborError {
                at: start,
                what: format!("{field}: not in deterministic encoding (a longer head than needed)"),
            });
        }
        Ok(())
    }

    /// A definite-length array of at most `max` items; returns its length.
    pub fn array_len(&mut self, field: &str, max: usize) -> Result<usize, CborError> {
        let start = self.0.position();
        let r = self.0.array();
        let n = self.wrap(field, r)?;
        if let Some(n) = n {
            self.shortest(field, start, n, 0)?;
        }
        match n {
            Some(n) if n <= max as u64 => Ok(n as usize),
            Some(n) => Err(self.err(format!("{field}: {n} items, at most {max} allowed"))),
            None => Err(self.err(format!("{field}: indefinite-length array"))),
        }
    }

    pub fn u64(&mut self, field: &str) -> Result<u64, CborError> {
        let start = self.0.position();
        let r = self.0.u64();
        let x = self.wrap(field, r)?;
        self.shortest(field, start, x, 0)?;
        Ok(x)
    }

    pub fn bytes(&mut self, field: &str, max: usize) -> Result<&'b [u8], CborError> {
        let start = self.0.position();
        let r = self.0.bytes();
        let b = self.wrap(field, r)?;
        self.shortest(field, start, b.len() as u64, b.len())?;
        if b.len() > max {
            return Err(self.err(format!("{field}: {} bytes, at most {max} allowed", b.len())));
        }
        Ok(b)
    }

    pub fn bytes32(&mut self, field: &str) -> Result<[u8; 32], CborError> {
        let b = self.bytes(field, 32)?;
        b.try_into()
            .map_err(|_| self.err(format!("{field}: expected 32 bytes, found {}", b.len())))
    }

    pub fn bytes64(&mut self, field: &str) -> Result<[u8; 64], CborError> {
        let b = self.bytes(field, 64)?;
        b.try_into()
            .map_err(|_| self.err(format!("{field}: expected 64 bytes, found {}", b.len())))
    }

    /// A text string of at most `max` bytes of UTF-8.
    pub fn str(&mut self, field: &str, max: usize) -> Result<String, CborError> {
        let start = self.0.position();
        let r = self.0.str();
        let s = self.wrap(field, r)?;
        self.shortest(field, start, s.len() as u64, s.len())?;
        if s.len() > max {
            return Err(self.err(format!(
                "{field}: {} bytes of text, at most {max} allowed",
                s.len()
            )));
        }
        Ok(s.to_owned())
    }

    pub fn strs(
        &mut self,
        field: &str,
        max_items: usize,
        max_len: usize,
    ) -> Result<Vec<String>, CborError> {
        let n = self.array_len(field, max_items)?;
        (0..n).map(|_| self.str(field, max_len)).collect()
    }

    /// Null, or a 32-byte string.
    pub fn opt_bytes32(&mut self, field: &str) -> Result<Option<[u8; 32]>, CborError> {
        if self.is_null(field)? {
            return Ok(None);
        }
        self.bytes32(field).map(Some)
    }

    /// Null, or an unsigned integer.
    pub fn opt_u64(&mut self, field: &str) -> Result<Option<u64>, CborError> {
        if self.is_null(field)? {
            return Ok(None);
        }
        self.u64(field).map(Some)
    }

    pub fn is_null(&mut self, field: &str) -> Result<bool, CborError> {
        let t = self.0.datatype();
        if self.wrap(field, t)? == Type::Null {
            let r = self.0.null();
            self.wrap(field, r)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'b [u8] {
        &self.0.input()[self.0.position()..]
    }

    /// Marks every byte as read (after decoding `rest` separately).
    pub fn skip_rest(&mut self) {
        let end = self.0.input().len();
        self.0.set_position(end);
    }

    /// Fails if anything follows the value.
    pub fn end(&self) -> Result<(), CborError> {
        if self.0.position() != self.0.input().len() {
            return Err(self.err("trailing bytes after the value"));
        }
        Ok(())
    }
}

/// Decodes `bytes` with `decode`, then insists that `encode` gives back the very same bytes.
pub(crate) fn decode_canonical<T, E: From<CborError>>(
    bytes: &[u8],
    decode: impl FnOnce(&mut Dec<'_>) -> Result<T, E>,
    encode: impl FnOnce(&T) -> Vec<u8>,
) -> Result<T, E> {
    let mut d = Dec::new(bytes);
    let value = decode(&mut d)?;
    d.end()?;
    if encode(&value) != bytes {
        return Err(CborError {
            at: 0,
            what: "not in deterministic encoding (RFC 8949 section 4.2.1)".into(),
        }
        .into());
    }
    Ok(value)
}
