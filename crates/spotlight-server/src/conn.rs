//! The connection under hyper. Every response the router makes goes through
//! the pipeline's `security_headers`; the few that hyper writes by itself — a
//! `400`/`414`/`431` for a request it cannot parse — never reach it. This
//! stream adds the same headers to any HTTP/1 error head written without them
//! (ours always carry `x-content-type-options`, so they pass untouched).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The headers of `middleware::security_headers`, as they go on the wire.
const HEADERS: &[u8] = b"content-security-policy: default-src 'none'; frame-ancestors 'none'\r\n\
x-content-type-options: nosniff\r\n\
x-frame-options: DENY\r\n\
referrer-policy: no-referrer\r\n\
permissions-policy: camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()\r\n";

/// A stream that completes the heads of error answers hyper writes itself.
pub struct Guarded<S> {
    inner: S,
    /// A rewritten head being written: its bytes, how many went out, and how
    /// long the original was (what the caller is told was written).
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<S> Guarded<S> {
    pub fn new(inner: S) -> Self {
        Guarded {
            inner,
            pending: None,
        }
    }
}

/// `buf` with the security headers after its status line, when it begins an
/// HTTP/1 error head (4xx, 5xx) that lacks them.
fn completed(buf: &[u8]) -> Option<Vec<u8>> {
    let status = buf.strip_prefix(b"HTTP/1.")?.get(2..3)?;
    if !matches!(status, [b'4' | b'5']) {
        return None;
    }
    let head_end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(buf.len());
    let head = &buf[..head_end];
    if head
        .windows(22)
        .any(|w| w.eq_ignore_ascii_case(b"x-content-type-options"))
    {
        return None;
    }
    let line_end = buf.windows(2).position(|w| w == b"\r\n")? + 2;
    let mut out = Vec::with_capacity(buf.len() + HEADERS.len());
    out.extend_from_slice(&buf[..line_end]);
    out.extend_from_slice(HEADERS);
    out.extend_from_slice(&buf[line_end..]);
    Some(out)
}

impl<S: AsyncWrite + Unpin> Guarded<S> {
    /// Writes out a rewritten head; ready with the original's length once all
    /// of it is gone.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        while let Some((bytes, written, reported)) = self.pending.as_mut() {
            if *written == bytes.len() {
                let n = *reported;
                self.pending = None;
                return Poll::Ready(Ok(n));
            }
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => *written += n,
                other => return other,
            }
        }
        Poll::Ready(Ok(0))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.pending.is_none() {
            match completed(buf) {
                Some(bytes) => self.pending = Some((bytes, 0, buf.len())),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        self.drain(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // A head to complete is written by itself; everything else as it came.
        let first = bufs.iter().find(|b| !b.is_empty());
        if self.pending.is_some() || first.is_some_and(|b| completed(b).is_some()) {
            let first = first.map_or(&[][..], |b| &b[..]);
            return self.poll_write(cx, first);
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.pending.is_some() {
            match self.drain(cx) {
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_error_heads_are_completed() {
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let out = completed(bare).expect("completed");
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\ncontent-security-policy"));
        assert!(text.ends_with("content-length: 0\r\ndate: x\r\n\r\n"));
        assert!(text.contains("x-content-type-options: nosniff\r\n"));
        // Ours (which carry the headers), successes and HTTP/2 frames pass.
        assert!(
            completed(b"HTTP/1.1 404 Not Found\r\nx-content-type-options: nosniff\r\n\r\n")
                .is_none()
        );
        assert!(completed(b"HTTP/1.1 200 OK\r\n\r\n").is_none());
        assert!(completed(b"\x00\x00\x12\x04\x00").is_none());
    }
}
