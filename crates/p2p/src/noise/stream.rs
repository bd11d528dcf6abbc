//! The encrypted connection after the handshake: bytes in, Noise transport messages out.
//! Writes are gathered into messages of at most [`MAX_PLAINTEXT`] bytes, sent when full or
//! flushed; reads hand out one decrypted message at a time.

use super::codec::{Codec, MAX_PLAINTEXT};
use asynchronous_codec::Framed;
use bytes::Bytes;
use futures::{ready, AsyncRead, AsyncWrite, Sink, Stream};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A connection secured by the Noise handshake.
pub struct NoiseStream<T> {
    io: Framed<T, Codec<snow::TransportState>>,
    /// The decrypted message being read, from `read_at` on.
    received: Bytes,
    read_at: usize,
    /// Plaintext waiting to be sent as one message.
    pending: Vec<u8>,
}

impl<T> NoiseStream<T> {
    pub(crate) fn new(io: Framed<T, Codec<snow::TransportState>>) -> Self {
        NoiseStream {
            io,
            received: Bytes::new(),
            read_at: 0,
            pending: Vec::with_capacity(MAX_PLAINTEXT),
        }
    }
}

impl<T> std::fmt::Debug for NoiseStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoiseStream")
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for NoiseStream<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        while this.read_at == this.received.len() {
            match ready!(Pin::new(&mut this.io).poll_next(cx)) {
                None => return Poll::Ready(Ok(0)),
                Some(Err(e)) => return Poll::Ready(Err(e)),
                Some(Ok(message)) => {
                    this.received = message;
                    this.read_at = 0;
                }
            }
        }
        let n = buf.len().min(this.received.len() - this.read_at);
        buf[..n].copy_from_slice(&this.received[this.read_at..this.read_at + n]);
        this.read_at += n;
        Poll::Ready(Ok(n))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> NoiseStream<T> {
    /// Hands the gathered plaintext to the framing as one message.
    fn poll_send_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.pending.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let mut io = Pin::new(&mut self.io);
        ready!(io.as_mut().poll_ready(cx))?;
        io.start_send(&self.pending)?;
        self.pending.clear();
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for NoiseStream<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.len() == MAX_PLAINTEXT {
            ready!(this.poll_send_pending(cx))?;
        }
        let n = buf.len().min(MAX_PLAINTEXT - this.pending.len());
        this.pending.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_send_pending(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush(cx))?;
        Pin::new(&mut self.io).poll_close(cx)
    }
}
