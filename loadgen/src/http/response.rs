//! An incremental HTTP/1.1 response parser: bytes go in, in whatever pieces TCP delivers them,
//! and [`Step`]s come out — the status once the head is complete, then the body in slices, then
//! the end of the response.
//!
//! It keeps no copy of the body (the caller checks each slice as it passes) and buffers only the
//! line being read: the status line, a header, a chunk-size line or a trailer. A response's end is
//! found the three ways RFC 9112 (section 6.3) allows on a kept-alive connection:
//!
//! * `Transfer-Encoding: chunked`: hex size lines, each followed by that many bytes and a CRLF,
//!   until a zero-size chunk and its (possibly empty) trailer section;
//! * `Content-Length: N`: exactly `N` body bytes;
//! * no body at all: `1xx`, `204` and `304` responses (a `1xx` is an interim response: it is
//!   skipped, and the final response that follows is parsed).
//!
//! A response with neither header could only end when the server closes the connection, which a
//! keep-alive client cannot wait for: it is reported as an error, like anything malformed (a bad
//! status line, a header without a colon, conflicting lengths, a transfer coding other than
//! chunked, an over-long line). After an error the parser is not meant to be used again.
//!
//! Responses to `HEAD` requests (no body despite a `Content-Length`) are not supported: the load
//! generator sends none.

use std::fmt;

/// Longest line accepted (status line, header, chunk size, trailer), in bytes.
pub const MAX_LINE: usize = 8 * 1024;
/// Most header (or trailer) lines accepted in one response.
pub const MAX_HEADERS: usize = 100;

/// What the parser found in the bytes it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// All bytes given were consumed; more are needed to go on.
    NeedMore,
    /// The head of a final response is complete: its status code.
    Head {
        /// The status code, e.g. 200.
        status: u16,
    },
    /// The next piece of the body (chunk framing removed).
    Body(&'a [u8]),
    /// The response is complete; the next byte starts a new one.
    Complete,
}

/// Why a response could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// A line did not end with CRLF (a lone LF, or a CR elsewhere).
    BadLineEnding,
    /// A line longer than [`MAX_LINE`], or more than [`MAX_HEADERS`] headers.
    TooLong,
    /// The status line is not `HTTP/1.x NNN reason`.
    BadStatusLine,
    /// A header line without a colon, with an empty name, or folded (starting with whitespace).
    BadHeader,
    /// A `Content-Length` that is not a number, or two that disagree.
    BadContentLength,
    /// A `Transfer-Encoding` whose last coding is not `chunked`.
    UnsupportedTransferEncoding,
    /// A response with a body but neither `Content-Length` nor chunked framing.
    NoLength,
    /// A chunk-size line that is not a hexadecimal number (or is too large).
    BadChunkSize,
    /// Chunk data not followed by CRLF.
    BadChunkEnd,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            ParseError::BadLineEnding => "a line does not end with CRLF",
            ParseError::TooLong => "a line or the header section is too long",
            ParseError::BadStatusLine => "malformed status line",
            ParseError::BadHeader => "malformed header line",
            ParseError::BadContentLength => "invalid or conflicting Content-Length",
            ParseError::UnsupportedTransferEncoding => "transfer coding other than chunked",
            ParseError::NoLength => "a body without Content-Length or chunked framing",
            ParseError::BadChunkSize => "malformed chunk size",
            ParseError::BadChunkEnd => "chunk data not followed by CRLF",
        };
        f.write_str(what)
    }
}

impl std::error::Error for ParseError {}

/// Where in a response the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the status line.
    StatusLine,
    /// Reading header lines, until the empty one.
    Headers,
    /// `left` bytes of a `Content-Length` body to go.
    Body { left: u64 },
    /// Reading a chunk-size line.
    ChunkSize,
    /// `left` bytes of the current chunk to go.
    ChunkData { left: u64 },
    /// Reading the CRLF after a chunk's data.
    ChunkEnd,
    /// Reading trailer lines after the last chunk, until the empty one.
    Trailers,
    /// The response is over: the next call says [`Step::Complete`].
    Done,
}

/// What the head of the response under way said. Reset for every response.
#[derive(Debug, Clone, Copy, Default)]
struct Head {
    status: u16,
    content_length: Option<u64>,
    chunked: bool,
    lines: usize,
}

/// The parser. See the module documentation.
#[derive(Debug, Clone)]
pub struct ResponseParser {
    state: State,
    /// The line being read, without its end; kept between calls when a line is split.
    line: Vec<u8>,
    head: Head,
}

impl Default for ResponseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseParser {
    /// A parser waiting for the first byte of a response.
    pub fn new() -> Self {
        Self {
            state: State::StatusLine,
            line: Vec::with_capacity(256),
            head: Head::default(),
        }
    }

    /// Whether the parser is between responses (nothing of a response has been seen yet).
    pub fn is_idle(&self) -> bool {
        self.state == State::StatusLine && self.line.is_empty()
    }

    /// Parses from the start of `data`; returns how many bytes it used and what it found.
    ///
    /// Call again with the rest (`&data[used..]`) until it answers [`Step::NeedMore`], which it
    /// does only once all of `data` is used. [`Step::Complete`] may come with no bytes used (a
    /// response without a body ends with its head), so an empty `data` is worth a call too.
    pub fn advance<'a>(&mut self, data: &'a [u8]) -> Result<(usize, Step<'a>), ParseError> {
        let mut used = 0;
        loop {
            let rest = &data[used..];
            match self.state {
                State::Done => {
                    self.state = State::StatusLine;
                    return Ok((used, Step::Complete));
                }
                State::Body { left } | State::ChunkData { left } => {
                    if rest.is_empty() {
                        return Ok((used, Step::NeedMore));
                    }
                    let take = left.min(rest.len() as u64) as usize;
                    let left = left - take as u64;
                    self.state = match (self.state, left) {
                        (State::Body { .. }, 0) => State::Done,
                        (State::Body { .. }, left) => State::Body { left },
                        (_, 0) => State::ChunkEnd,
                        (_, left) => State::ChunkData { left },
                    };
                    return Ok((used + take, Step::Body(&rest[..take])));
                }
                _ => {
                    let Some(took) = self.take_line(rest)? else {
                        return Ok((data.len(), Step::NeedMore));
                    };
                    used += took;
                    let line = std::mem::take(&mut self.line);
                    let step = self.on_line(&line);
                    self.line = line;
                    self.line.clear();
                    if let Some(status) = step? {
                        return Ok((used, Step::Head { status }));
                    }
                }
            }
        }
    }

    /// Adds the bytes of `data` up to the end of the current line to `self.line` (without the
    /// CRLF). Returns how many bytes it took if the line is now complete, `None` if all of `data`
    /// went into the line and it goes on.
    fn take_line(&mut self, data: &[u8]) -> Result<Option<usize>, ParseError> {
        let (piece, complete) = match data.iter().position(|&b| b == b'\n') {
            Some(at) => (&data[..at], true),
            None => (data, false),
        };
        if self.line.len() + piece.len() > MAX_LINE {
            return Err(ParseError::TooLong);
        }
        self.line.extend_from_slice(piece);
        if !complete {
            return Ok(None);
        }
        if self.line.pop() != Some(b'\r') {
            return Err(ParseError::BadLineEnding);
        }
        if self.line.contains(&b'\r') {
            return Err(ParseError::BadLineEnding);
        }
        Ok(Some(piece.len() + 1))
    }

    /// Acts on one complete line; returns the status when it ended a final response's head.
    fn on_line(&mut self, line: &[u8]) -> Result<Option<u16>, ParseError> {
        match self.state {
            State::StatusLine => {
                self.head = Head {
                    status: parse_status_line(line)?,
                    ..Head::default()
                };
                self.state = State::Headers;
            }
            State::Headers if line.is_empty() => return self.end_of_head(),
            State::Headers => {
                self.count_line()?;
                self.on_header(line)?;
            }
            State::ChunkSize => {
                self.state = match parse_chunk_size(line)? {
                    0 => State::Trailers,
                    left => State::ChunkData { left },
                };
            }
            State::ChunkEnd if line.is_empty() => self.state = State::ChunkSize,
            State::ChunkEnd => return Err(ParseError::BadChunkEnd),
            State::Trailers if line.is_empty() => self.state = State::Done,
            State::Trailers => {
                self.count_line()?;
                split_header(line)?;
            }
            State::Body { .. } | State::ChunkData { .. } | State::Done => {
                unreachable!("not a line state")
            }
        }
        Ok(None)
    }

    fn count_line(&mut self) -> Result<(), ParseError> {
        self.head.lines += 1;
        if self.head.lines > MAX_HEADERS {
            return Err(ParseError::TooLong);
        }
        Ok(())
    }

    /// Records what one header says about the body's framing; other headers are only checked for
    /// shape.
    fn on_header(&mut self, line: &[u8]) -> Result<(), ParseError> {
        let (name, value) = split_header(line)?;
        if name.eq_ignore_ascii_case(b"content-length") {
            let length = parse_decimal(value).ok_or(ParseError::BadContentLength)?;
            if self
                .head
                .content_length
                .is_some_and(|known| known != length)
            {
                return Err(ParseError::BadContentLength);
            }
            self.head.content_length = Some(length);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            let last = value.rsplit(|&b| b == b',').next().unwrap_or_default();
            if !trim(last).eq_ignore_ascii_case(b"chunked") {
                return Err(ParseError::UnsupportedTransferEncoding);
            }
            self.head.chunked = true;
        }
        Ok(())
    }

    /// The empty line after the headers: decides how the body is framed.
    fn end_of_head(&mut self) -> Result<Option<u16>, ParseError> {
        let Head {
            status,
            content_length,
            chunked,
            ..
        } = self.head;
        if (100..200).contains(&status) {
            // An interim response: the final one follows.
            self.state = State::StatusLine;
            return Ok(None);
        }
        self.state = if status == 204 || status == 304 {
            State::Done
        } else if chunked {
            // Transfer-Encoding overrides Content-Length (RFC 9112, 6.3).
            State::ChunkSize
        } else {
            match content_length {
                Some(0) => State::Done,
                Some(left) => State::Body { left },
                None => return Err(ParseError::NoLength),
            }
        };
        Ok(Some(status))
    }
}

/// `HTTP/1.x NNN reason` (the reason may be empty, or missing with its space).
fn parse_status_line(line: &[u8]) -> Result<u16, ParseError> {
    let rest = line
        .strip_prefix(b"HTTP/1.")
        .ok_or(ParseError::BadStatusLine)?;
    let (minor, rest) = rest.split_first().ok_or(ParseError::BadStatusLine)?;
    let code = rest.strip_prefix(b" ").ok_or(ParseError::BadStatusLine)?;
    if !minor.is_ascii_digit() || code.len() < 3 || (code.len() > 3 && code[3] != b' ') {
        return Err(ParseError::BadStatusLine);
    }
    let digits = &code[..3];
    if !digits.iter().all(u8::is_ascii_digit) || digits[0] == b'0' {
        return Err(ParseError::BadStatusLine);
    }
    Ok(digits.iter().fold(0, |n, &d| n * 10 + u16::from(d - b'0')))
}

/// `name: value` → (name, value without surrounding whitespace).
fn split_header(line: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(ParseError::BadHeader)?;
    let name = &line[..colon];
    let bad_name = name.is_empty() || name.iter().any(|b| b.is_ascii_whitespace());
    if bad_name {
        return Err(ParseError::BadHeader);
    }
    Ok((name, trim(&line[colon + 1..])))
}

/// `bytes` without leading and trailing spaces and tabs.
fn trim(bytes: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// A non-empty run of decimal digits that fits in a `u64`.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        if !d.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// `1a3f` or `1a3f;name=value`: the hexadecimal size, extensions ignored.
fn parse_chunk_size(line: &[u8]) -> Result<u64, ParseError> {
    let size = line.split(|&b| b == b';').next().unwrap_or_default();
    let size = trim(size);
    if size.is_empty() || size.len() > 15 {
        return Err(ParseError::BadChunkSize);
    }
    size.iter().try_fold(0u64, |n, &d| {
        let digit = (d as char).to_digit(16).ok_or(ParseError::BadChunkSize)?;
        Ok(n * 16 + u64::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a whole feed produced: each response's status and body, and how many completed.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct Seen {
        responses: Vec<(u16, Vec<u8>)>,
        completed: usize,
    }

    /// Feeds `pieces` one after the other and collects what came out.
    fn feed<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Result<Seen, ParseError> {
        let mut parser = ResponseParser::new();
        let mut seen = Seen::default();
        for piece in pieces {
            let mut rest = piece;
            loop {
                let (used, step) = parser.advance(rest)?;
                rest = &rest[used..];
                match step {
                    Step::NeedMore => break,
                    Step::Head { status } => seen.responses.push((status, Vec::new())),
                    Step::Body(bytes) => seen.responses.last_mut().unwrap().1.extend(bytes),
                    Step::Complete => seen.completed += 1,
                }
            }
            assert!(rest.is_empty(), "NeedMore only once everything is used");
        }
        Ok(seen)
    }

    /// Every way of cutting `wire` in two, and byte by byte, must give the same result as
    /// feeding it whole.
    fn same_at_every_split(wire: &[u8]) -> Seen {
        let whole = feed([wire]).unwrap();
        for at in 0..=wire.len() {
            let (a, b) = wire.split_at(at);
            assert_eq!(feed([a, b]).unwrap(), whole, "split at byte {at}");
        }
        assert_eq!(feed(wire.chunks(1)).unwrap(), whole, "byte by byte");
        whole
    }

    const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\
        date: Sun, 06 Dec 2026 20:00:00 GMT\r\n\r\nHello, world!";

    #[test]
    fn content_length_body_at_every_split() {
        let seen = same_at_every_split(HELLO);
        assert_eq!(seen.responses, vec![(200, b"Hello, world!".to_vec())]);
        assert_eq!(seen.completed, 1);
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers_at_every_split() {
        let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
            5\r\nHello\r\n8;ext=1\r\n, world!\r\n0\r\nx-trailer: yes\r\n\r\n";
        let seen = same_at_every_split(wire);
        assert_eq!(seen.responses, vec![(200, b"Hello, world!".to_vec())]);
        assert_eq!(seen.completed, 1);
    }

    #[test]
    fn keep_alive_responses_follow_each_other() {
        let mut wire = HELLO.to_vec();
        wire.extend_from_slice(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        wire.extend_from_slice(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
        wire.extend_from_slice(b"A\r\n0123456789\r\n0\r\n\r\n");
        wire.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
        let seen = same_at_every_split(&wire);
        assert_eq!(
            seen.responses,
            vec![
                (200, b"Hello, world!".to_vec()),
                (404, Vec::new()),
                (200, b"0123456789".to_vec()),
                (204, Vec::new()),
            ]
        );
        assert_eq!(seen.completed, 4);
    }

    #[test]
    fn interim_responses_are_skipped() {
        let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let seen = same_at_every_split(wire);
        assert_eq!(seen.responses, vec![(200, b"ok".to_vec())]);
    }

    #[test]
    fn chunked_overrides_content_length() {
        let wire = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\
            Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
        assert_eq!(
            feed([&wire[..]]).unwrap().responses,
            vec![(200, b"ok".to_vec())]
        );
    }

    #[test]
    fn a_large_body_passes_through_without_being_stored() {
        let body = vec![7u8; 100_000];
        let mut wire = b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n".to_vec();
        wire.extend_from_slice(&body);
        let seen = feed(wire.chunks(4096)).unwrap();
        assert_eq!(seen.responses, vec![(200, body)]);
        assert!(ResponseParser::new().line.capacity() < 1024);
    }

    #[test]
    fn the_parser_is_idle_only_between_responses() {
        let mut parser = ResponseParser::new();
        assert!(parser.is_idle());
        assert_eq!(parser.advance(b"HTTP/1.1 2").unwrap(), (10, Step::NeedMore));
        assert!(!parser.is_idle());
        let rest = &HELLO[10..];
        let mut used = 0;
        while used < rest.len() {
            used += parser.advance(&rest[used..]).unwrap().0;
        }
        assert_eq!(parser.advance(b"").unwrap(), (0, Step::Complete));
        assert!(parser.is_idle());
    }

    /// The error the parser reports for `wire`, fed whole and at every split.
    fn error_of(wire: &[u8]) -> ParseError {
        let whole = feed([wire]).unwrap_err();
        for at in 0..=wire.len() {
            let (a, b) = wire.split_at(at);
            assert_eq!(feed([a, b]).unwrap_err(), whole, "split at byte {at}");
        }
        whole
    }

    #[test]
    fn malformed_responses_are_errors() {
        use ParseError::*;
        let cases: &[(&[u8], ParseError)] = &[
            (b"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", BadLineEnding),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", BadLineEnding),
            (b"HTTP/1.1 2\r00 OK\r\n", BadLineEnding),
            (b"HTTP/2 200 OK\r\n", BadStatusLine),
            (b"HTTP/1.1 20 OK\r\n", BadStatusLine),
            (b"HTTP/1.1 2000 OK\r\n", BadStatusLine),
            (b"HTTP/1.1 abc OK\r\n", BadStatusLine),
            (b"http/1.1 200 OK\r\n", BadStatusLine),
            (b"HTTP/1.1 200 OK\r\nno colon here\r\n", BadHeader),
            (b"HTTP/1.1 200 OK\r\n: empty name\r\n", BadHeader),
            (b"HTTP/1.1 200 OK\r\nx: 1\r\n folded\r\n", BadHeader),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n",
                BadContentLength,
            ),
            (b"HTTP/1.1 200 OK\r\nContent-Length: \r\n", BadContentLength),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n",
                BadContentLength,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n",
                BadContentLength,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n",
                UnsupportedTransferEncoding,
            ),
            (b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", NoLength),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                BadChunkSize,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
                BadChunkSize,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n",
                BadChunkEnd,
            ),
        ];
        for (wire, expected) in cases {
            assert_eq!(
                error_of(wire),
                *expected,
                "{}",
                String::from_utf8_lossy(wire)
            );
        }
    }

    #[test]
    fn over_long_heads_are_errors() {
        let mut long_line = b"HTTP/1.1 200 OK\r\nx: ".to_vec();
        long_line.resize(long_line.len() + MAX_LINE, b'a');
        assert_eq!(
            feed(long_line.chunks(1000)).unwrap_err(),
            ParseError::TooLong
        );

        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for _ in 0..=MAX_HEADERS {
            many.extend_from_slice(b"x: y\r\n");
        }
        assert_eq!(feed([&many[..]]).unwrap_err(), ParseError::TooLong);
    }
}
