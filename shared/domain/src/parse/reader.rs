//! The reader under quick-xml: positions (line, column) of the bytes it hands out, the byte budget
//! of one event, and the look-ahead window of the fast path.

use std::io::{self, BufRead, Read};

/// A `BufRead` that tracks the line and column of the next byte quick-xml will read, and refuses
/// to hand out more than a budget of bytes for one event (so that a huge text or tag cannot fill
/// the memory).
///
/// The bytes are copied, `CHUNK` at a time, into a buffer of its own (so that quick-xml's many
/// `fill_buf` calls per event are a slice of it). Newlines are found once per chunk, word by word,
/// and turned into a line and column only when asked, so consuming bytes costs nothing per event.
///
/// The fast path of [`super::stream`] also looks ahead in the same buffer (`CountingReader::window`):
/// a whole domanda is read into it before it is consumed. `fill_buf` still hands out the bytes
/// exactly in the pieces the inner reader returned them (it never returns bytes past the end of
/// the chunk they were read in), so quick-xml sees the same sequence of `fill_buf` results, hence
/// the event budget trips at the same place, whether or not the fast path looked ahead.
pub struct CountingReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Unconsumed bytes of `buf`.
    start: usize,
    end: usize,
    /// Byte offset of `buf[start]` in the stream.
    pos: u64,
    line: u32,
    line_start: u64,
    /// Stream offsets of the newlines in `buf[..end]` from `next_newline` on, not yet counted in
    /// `line`.
    newlines: Vec<u64>,
    next_newline: usize,
    /// Stream offsets where the chunks in `buf` end, as the inner reader returned them.
    chunk_ends: Vec<u64>,
    next_chunk: usize,
    /// An error of the inner reader met while looking ahead: returned when the bytes read before it
    /// are consumed, where reading without looking ahead would have met it.
    pending: Option<io::Error>,
    event_bytes: u64,
    event_budget: u64,
    pub(super) limit_hit: bool,
}

/// Bytes handed out (and scanned for newlines) at a time.
pub(super) const CHUNK: usize = 64 * 1024;

/// The largest look-ahead of the fast path: a larger domanda goes through quick-xml.
pub(super) const WINDOW_MAX: usize = 1024 * 1024;

/// Stream offsets (`base` + index) of the `\n` bytes of `s`, eight bytes at a time.
pub(super) fn find_newlines(s: &[u8], base: u64, out: &mut Vec<u64>) {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const _: () = assert!(HI == LO << 7);
    const NL: u64 = LO * b'\n' as u64;
    let mut words = s.chunks_exact(8);
    let mut at = base;
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ NL;
        // The high bit of each byte of `zero` is set exactly where that byte of x is zero.
        let mut zero = !(((x & !HI) + !HI) | x) & HI;
        while zero != 0 {
            out.push(at + zero.trailing_zeros() as u64 / 8);
            zero &= zero - 1;
        }
        at += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == b'\n' {
            out.push(at + i as u64);
        }
    }
}

impl<R: BufRead> CountingReader<R> {
    pub fn new(inner: R, event_budget: u64) -> Self {
        CountingReader {
            inner,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            pos: 0,
            line: 1,
            line_start: 0,
            newlines: Vec::new(),
            next_newline: 0,
            chunk_ends: Vec::new(),
            next_chunk: 0,
            pending: None,
            event_bytes: 0,
            event_budget,
            limit_hit: false,
        }
    }

    /// Byte offset consumed so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Counts the newlines before the current position.
    fn catch_up(&mut self) {
        while let Some(&at) = self.newlines.get(self.next_newline) {
            if at >= self.pos {
                break;
            }
            self.line = self.line.saturating_add(1);
            self.line_start = at + 1;
            self.next_newline += 1;
        }
    }

    /// Line (1-based) and byte column (1-based) of the next byte to consume.
    pub fn line_column(&mut self) -> (u32, u32) {
        self.catch_up();
        (self.line, (self.pos.saturating_sub(self.line_start) + 1).min(u32::MAX as u64) as u32)
    }

    pub(super) fn start_event(&mut self) {
        self.event_bytes = 0;
    }

    /// Appends one chunk of the inner reader (as it returns it, at most [`CHUNK`] bytes) at
    /// `buf[end..]`, which has room for it. Returns its length (0 at the end of the input).
    fn read_chunk(&mut self) -> io::Result<usize> {
        let at = self.end;
        let n = {
            let inner = self.inner.fill_buf()?;
            let n = inner.len().min(CHUNK);
            self.buf[at..at + n].copy_from_slice(&inner[..n]);
            n
        };
        self.inner.consume(n);
        if n > 0 {
            let base = self.pos + (at - self.start) as u64;
            find_newlines(&self.buf[at..at + n], base, &mut self.newlines);
            self.end = at + n;
            self.chunk_ends.push(base + n as u64);
        }
        Ok(n)
    }

    /// Makes at least `want` unconsumed bytes available when the input has them (and they fit in
    /// [`WINDOW_MAX`]), reading whole chunks ahead; consumes nothing. Returns the unconsumed
    /// bytes, their stream offset, and the newline state to compute lines and columns in them.
    pub(super) fn window(&mut self, want: usize) -> (&[u8], u64, Lines<'_>) {
        while self.end - self.start < want && self.pending.is_none() {
            if self.buf.len() - self.end < CHUNK {
                // Move the unconsumed bytes to the front (forgetting the counted newlines and
                // the chunks already consumed), growing the buffer if that is not enough.
                self.catch_up();
                self.newlines.drain(..self.next_newline);
                self.next_newline = 0;
                let consumed_chunks = self
                    .chunk_ends
                    .iter()
                    .take_while(|&&e| e <= self.pos)
                    .count();
                self.chunk_ends.drain(..consumed_chunks);
                self.next_chunk = 0;
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
                if self.buf.len() - self.end < CHUNK {
                    let len = (self.buf.len() * 2).min(WINDOW_MAX + CHUNK);
                    if len - self.end < CHUNK {
                        break;
                    }
                    self.buf.resize(len, 0);
                }
            }
            match self.read_chunk() {
                Ok(0) => break,
                Ok(_) => {}
                // Left to quick-xml, which reads again after an interruption.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => break,
                Err(e) => {
                    self.pending = Some(e);
                    break;
                }
            }
        }
        self.catch_up();
        let lines =
            Lines { nl: &self.newlines[self.next_newline..], i: 0, line: self.line, line_start: self.line_start };
        (&self.buf[self.start..self.end], self.pos, lines)
    }
}

/// Lines and columns in a look-ahead window, as [`CountingReader::line_column`] would say them
/// once the reader got there (without moving the reader: the fast path may still give up).
pub(super) struct Lines<'a> {
    /// Stream offsets of the newlines not yet counted in `line`.
    nl: &'a [u64],
    i: usize,
    line: u32,
    line_start: u64,
}

impl Lines<'_> {
    /// What `line_column` says when the next byte to consume is at stream offset `at` (offsets
    /// asked in increasing order).
    pub(super) fn at(&mut self, at: u64) -> (u32, u32) {
        while let Some(&n) = self.nl.get(self.i) {
            if n >= at {
                break;
            }
            self.line = self.line.saturating_add(1);
            self.line_start = n + 1;
            self.i += 1;
        }
        (self.line, (at.saturating_sub(self.line_start) + 1).min(u32::MAX as u64) as u32)
    }
}

impl<R: BufRead> Read for CountingReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(out.len());
            out[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.event_bytes > self.event_budget {
            self.limit_hit = true;
            return Err(io::Error::other("limite di dimensione di un elemento superato"));
        }
        if self.start == self.end {
            if let Some(e) = self.pending.take() {
                return Err(e);
            }
            self.catch_up();
            self.start = 0;
            self.end = 0;
            self.newlines.clear();
            self.next_newline = 0;
            self.chunk_ends.clear();
            self.next_chunk = 0;
            if self.read_chunk()? == 0 {
                return Ok(&[]);
            }
        }
        // Up to the end of the chunk of the next byte, as the inner reader returned it.
        while self.chunk_ends[self.next_chunk] <= self.pos {
            self.next_chunk += 1;
        }
        let n = (self.chunk_ends[self.next_chunk] - self.pos) as usize;
        Ok(&self.buf[self.start..self.start + n])
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.end - self.start);
        self.start += amt;
        self.pos += amt as u64;
        self.event_bytes += amt as u64;
    }
}
