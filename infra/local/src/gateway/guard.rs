//! Checks every request head before hyper sees it, so that each rejection is a JSON answer.
//!
//! hyper answers a request it cannot parse (too many headers, a bad request line, a bad
//! `Content-Length`, an HTTP/2 preface) with a bare status line and no body, and it has no limit
//! on the URI length short of its buffer size, so an over-long URI reached the API Gateway event
//! conversion and panicked there. API Gateway itself rejects all of these before a function runs;
//! this is the local gateway's equivalent: the stream sits between the socket and hyper,
//! collects each request head, checks it against [`Limits`], and only then hands it (and exactly
//! its `Content-Length` of body) to hyper. A head that fails is never shown to hyper: hyper sees
//! the end of the stream, finishes the answers of earlier (pipelined) requests, and the caller
//! then writes the JSON rejection from [`GuardedStream::take_rejection`] and closes.
//!
//! It also bounds time: a head must arrive within `head_timeout` of its first byte (408), and
//! a connection with no request in progress is closed after `idle_timeout`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use kgdb_web::ApiError;
use lambda_http::http::{StatusCode, header};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// What a request head may be. API Gateway's own limits are of the same order (8 KiB URL,
/// 10 KiB of request line and headers); the local gateway is a little more generous.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_uri_bytes: usize,
    /// Request line and headers together.
    pub max_head_bytes: usize,
    pub max_headers: usize,
    pub max_body_bytes: u64,
    pub head_timeout: Duration,
    pub idle_timeout: Duration,
}

/// hyper's own header limit is 100; staying at or below it means hyper never rejects a head
/// that passed here.
pub const MAX_HEADERS: usize = 100;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_uri_bytes: 8 * 1024,
            max_head_bytes: 16 * 1024,
            max_headers: MAX_HEADERS,
            max_body_bytes: 1024 * 1024,
            head_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(75),
        }
    }
}

/// Which timer is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// Between requests: nothing owed to the client.
    Idle,
    /// Part of a head has arrived.
    Head,
    /// hyper is reading a body (its own handler bounds that time).
    Body,
}

pub struct GuardedStream<S> {
    inner: S,
    limits: Limits,
    /// Bytes of the current head, not yet checked.
    head: Vec<u8>,
    /// Checked bytes (heads and bodies) that hyper has not read yet.
    pass: Vec<u8>,
    pass_pos: usize,
    body_remaining: u64,
    rejection: Option<ApiError>,
    inner_eof: bool,
    waiting: Waiting,
    deadline: Pin<Box<Sleep>>,
    scratch: Box<[u8]>,
}

impl<S> GuardedStream<S> {
    pub fn new(inner: S, limits: Limits) -> Self {
        Self {
            inner,
            limits,
            head: Vec::new(),
            pass: Vec::new(),
            pass_pos: 0,
            body_remaining: 0,
            rejection: None,
            inner_eof: false,
            waiting: Waiting::Idle,
            deadline: Box::pin(tokio::time::sleep(limits.idle_timeout)),
            scratch: vec![0; 16 * 1024].into_boxed_slice(),
        }
    }

    /// The socket, and the JSON answer owed to the client if a head was rejected.
    pub fn take_rejection(self) -> (S, Option<ApiError>) {
        (self.inner, self.rejection)
    }

    fn wait_for(&mut self, waiting: Waiting) {
        let timeout = match waiting {
            Waiting::Idle => self.limits.idle_timeout,
            Waiting::Head => self.limits.head_timeout,
            Waiting::Body => return self.waiting = Waiting::Body,
        };
        self.waiting = waiting;
        self.deadline.as_mut().reset(Instant::now() + timeout);
    }

    fn reject(&mut self, error: ApiError) {
        self.head.clear();
        self.rejection = Some(error);
    }

    /// Moves socket bytes into `pass` as whole checked heads and their bodies.
    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() && self.rejection.is_none() {
            if self.body_remaining > 0 {
                let n = data
                    .len()
                    .min(usize::try_from(self.body_remaining).unwrap_or(usize::MAX));
                self.pass.extend_from_slice(&data[..n]);
                self.body_remaining -= n as u64;
                data = &data[n..];
                if self.body_remaining == 0 {
                    self.wait_for(Waiting::Idle);
                }
                continue;
            }
            if self.head.is_empty() {
                self.wait_for(Waiting::Head);
            }
            let old_len = self.head.len();
            self.head.extend_from_slice(data);
            let Some(end) = head_end(&self.head, old_len.saturating_sub(3)) else {
                if self.head.len() > self.limits.max_head_bytes {
                    let error = oversized_head(&self.head, &self.limits);
                    self.reject(error);
                }
                return;
            };
            // The head ends inside the bytes just added; what follows belongs to the body or
            // to the next request.
            data = &data[end - old_len..];
            self.head.truncate(end);
            match check_head(&self.head, &self.limits) {
                Ok(body_len) => {
                    self.pass.extend_from_slice(&self.head);
                    self.head.clear();
                    self.body_remaining = body_len;
                    self.wait_for(if body_len > 0 {
                        Waiting::Body
                    } else {
                        Waiting::Idle
                    });
                }
                Err(error) => self.reject(error),
            }
        }
    }
}

/// Index just past the blank line that ends a head (`\r\n\r\n`, or bare `\n\n` as hyper also
/// accepts), searching from `from`.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        if buf[i] == b'\n' {
            match (buf.get(i + 1), buf.get(i + 2)) {
                (Some(b'\n'), _) => return Some(i + 2),
                (Some(b'\r'), Some(b'\n')) => return Some(i + 3),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

fn uri_too_long(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::URI_TOO_LONG,
        "uri_too_long",
        format!("the request URI is longer than {max} bytes"),
    )
}

fn head_too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
        format!("the request line and headers are longer than {max} bytes"),
    )
}

/// 414 when the request line alone is too long (the URI), else 431.
fn oversized_head(head: &[u8], limits: &Limits) -> ApiError {
    let request_line = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    if request_line > limits.max_uri_bytes {
        uri_too_long(limits.max_uri_bytes)
    } else {
        head_too_large(limits.max_head_bytes)
    }
}

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", message)
}

/// Checks a complete head; returns its body length.
fn check_head(head: &[u8], limits: &Limits) -> Result<u64, ApiError> {
    if head.len() > limits.max_head_bytes {
        return Err(oversized_head(head, limits));
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let headers = &mut headers[..limits.max_headers.min(MAX_HEADERS)];
    let mut request = httparse::Request::new(headers);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(malformed("incomplete request head")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "too_many_headers",
                format!("more than {} request headers", limits.max_headers),
            ));
        }
        Err(httparse::Error::Version) => {
            // 400, not 505: no request may get a 5xx, which would page someone.
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "http_version_not_supported",
                "the local gateway speaks HTTP/1.0 and HTTP/1.1 (no HTTP/2 prior knowledge)",
            ));
        }
        Err(e) => return Err(malformed(format!("malformed request: {e}"))),
    }
    let target = request.path.unwrap_or_default();
    if target.len() > limits.max_uri_bytes {
        return Err(uri_too_long(limits.max_uri_bytes));
    }
    if lambda_http::http::Uri::try_from(target).is_err() {
        return Err(malformed(
            "the request target is not a valid URI (characters outside URI syntax must be percent-encoded)",
        ));
    }
    if request
        .method
        .is_some_and(|m| lambda_http::http::Method::from_bytes(m.as_bytes()).is_err())
    {
        return Err(malformed("invalid method"));
    }
    let mut content_length: Option<u64> = None;
    for h in request.headers.iter() {
        if h.name
            .eq_ignore_ascii_case(header::TRANSFER_ENCODING.as_str())
        {
            return Err(ApiError::new(
                StatusCode::LENGTH_REQUIRED,
                "length_required",
                "send request bodies with Content-Length (Transfer-Encoding is not accepted)",
            ));
        }
        if h.name.eq_ignore_ascii_case(header::CONTENT_LENGTH.as_str()) {
            let value = std::str::from_utf8(h.value)
                .ok()
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| malformed("Content-Length is not a number"))?;
            if content_length.is_some_and(|seen| seen != value) {
                return Err(malformed("conflicting Content-Length headers"));
            }
            content_length = Some(value);
        }
    }
    let length = content_length.unwrap_or(0);
    if length > limits.max_body_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "request body is larger than {} bytes",
                limits.max_body_bytes
            ),
        ));
    }
    Ok(length)
}

impl<S: AsyncRead + Unpin> AsyncRead for GuardedStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.pass_pos < this.pass.len() {
                let n = buf.remaining().min(this.pass.len() - this.pass_pos);
                buf.put_slice(&this.pass[this.pass_pos..this.pass_pos + n]);
                this.pass_pos += n;
                if this.pass_pos == this.pass.len() {
                    this.pass.clear();
                    this.pass_pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            // After a rejection hyper sees the end of the stream: it finishes earlier answers
            // and returns the connection.
            if this.rejection.is_some() || this.inner_eof {
                return Poll::Ready(Ok(()));
            }
            let mut read = ReadBuf::new(&mut this.scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) => {
                    let filled = read.filled().len();
                    if filled == 0 {
                        this.inner_eof = true;
                        continue;
                    }
                    let scratch = std::mem::take(&mut this.scratch);
                    this.feed(&scratch[..filled]);
                    this.scratch = scratch;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    if this.waiting == Waiting::Body || this.deadline.as_mut().poll(cx).is_pending()
                    {
                        return Poll::Pending;
                    }
                    match this.waiting {
                        Waiting::Head => this.reject(ApiError::new(
                            StatusCode::REQUEST_TIMEOUT,
                            "request_timeout",
                            format!(
                                "the request head did not arrive within {} s",
                                this.limits.head_timeout.as_secs()
                            ),
                        )),
                        // Nothing was asked: close without an answer.
                        _ => this.inner_eof = true,
                    }
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for GuardedStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The bytes of an HTTP/1.1 answer that closes the connection, for rejections written outside
/// hyper.
pub fn closing_response_bytes(response: lambda_http::Response<lambda_http::Body>) -> Vec<u8> {
    let (parts, body) = response.into_parts();
    let body: &[u8] = match &body {
        lambda_http::Body::Text(t) => t.as_bytes(),
        lambda_http::Body::Binary(b) => b,
        _ => b"",
    };
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        parts.status.as_u16(),
        parts.status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in &parts.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    fn checked(head: &str) -> Result<u64, StatusCode> {
        check_head(head.as_bytes(), &Limits::default()).map_err(|e| e.status)
    }

    #[test]
    fn heads_are_checked() {
        assert_eq!(checked("GET /api/genes HTTP/1.1\r\nHost: x\r\n\r\n"), Ok(0));
        assert_eq!(
            checked("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n"),
            Ok(5)
        );
        assert_eq!(
            checked("POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            Err(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            checked("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            Err(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            checked("POST /x HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"),
            Err(StatusCode::PAYLOAD_TOO_LARGE)
        );
        assert_eq!(
            checked("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(StatusCode::LENGTH_REQUIRED)
        );
        assert_eq!(
            checked("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            Err(StatusCode::BAD_REQUEST)
        );
        assert_eq!(checked("GARBAGE\r\n\r\n"), Err(StatusCode::BAD_REQUEST));
        let many: String = (0..101).map(|i| format!("h{i}: v\r\n")).collect();
        assert_eq!(
            checked(&format!("GET / HTTP/1.1\r\n{many}\r\n")),
            Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        let long = "a".repeat(9000);
        assert_eq!(
            checked(&format!("GET /{long} HTTP/1.1\r\n\r\n")),
            Err(StatusCode::URI_TOO_LONG)
        );
        assert_eq!(
            checked("GET /a\x7fb HTTP/1.1\r\n\r\n"),
            Err(StatusCode::BAD_REQUEST)
        );
    }

    #[test]
    fn head_end_finds_both_line_endings() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest", 0), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\nrest", 0), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n", 0), None);
    }

    /// Pipelined requests pass whole, split at arbitrary points; a bad one ends the stream.
    #[tokio::test]
    async fn passes_checked_requests_and_stops_at_a_bad_one() {
        let input = b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\nContent-Length: x\r\n\r\nGET /d HTTP/1.1\r\n\r\n";
        let (client, server) = tokio::io::duplex(7);
        // Small pipe, small writes: heads and bodies arrive split at arbitrary points.
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let mut client = client;
            for chunk in input.chunks(5) {
                // Fails once the guard has stopped reading and its end is dropped.
                if client.write_all(chunk).await.is_err() {
                    break;
                }
            }
        });
        let mut guarded = GuardedStream::new(server, Limits::default());
        let mut seen = Vec::new();
        guarded.read_to_end(&mut seen).await.unwrap();
        assert_eq!(
            String::from_utf8(seen).unwrap(),
            "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n\r\n"
        );
        let (server, rejection) = guarded.take_rejection();
        assert_eq!(rejection.map(|e| e.status), Some(StatusCode::BAD_REQUEST));
        drop(server);
        writer.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_half_sent_head_times_out_with_408() {
        let (mut client, server) = tokio::io::duplex(64);
        use tokio::io::AsyncWriteExt;
        client
            .write_all(b"GET /api/genes HTTP/1.1\r\nHo")
            .await
            .unwrap();
        let mut guarded = GuardedStream::new(server, Limits::default());
        let mut seen = Vec::new();
        guarded.read_to_end(&mut seen).await.unwrap();
        assert!(seen.is_empty());
        let (_, rejection) = guarded.take_rejection();
        assert_eq!(
            rejection.map(|e| e.status),
            Some(StatusCode::REQUEST_TIMEOUT)
        );
    }
}
