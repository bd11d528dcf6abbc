//! Bounds on the operator's listeners — the HTTP endpoint (dashboard, metrics, health) and
//! the node API — so that clients which connect and then say nothing cannot starve them,
//! nor use up the process's open files:
//!
//! - at most [`ConnectionLimits::max_connections`] connections are open at once. When one
//!   more arrives, the connection that has gone longest without an answer is closed to make
//!   room, so a new client (a health check, `qnode status`) is always served at once and
//!   idle connections are what gives way;
//! - a connection that has had no answer written for
//!   [`ConnectionLimits::idle_timeout`] (since it was accepted or since its last answer) is
//!   closed. Only bytes written count: a client trickling a request one byte at a time, or
//!   never reading the answer, does not keep its connection.

use futures::task::AtomicWaker;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};

/// How many connections a listener keeps open, and for how long one may stay idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Open connections at most; one more closes the longest idle.
    pub max_connections: usize,
    /// A connection without an answer written for this long is closed.
    pub idle_timeout: Duration,
}

impl ConnectionLimits {
    /// The HTTP endpoint's: a dashboard polls every second and Prometheus every few
    /// seconds, so 30 s without an answer means nobody is asking.
    pub const HTTP: ConnectionLimits = ConnectionLimits {
        max_connections: 256,
        idle_timeout: Duration::from_secs(30),
    };
    /// The node API's: command-line tools and scripts, a few at a time.
    pub const NODE_API: ConnectionLimits = ConnectionLimits {
        max_connections: 128,
        idle_timeout: Duration::from_secs(60),
    };
}

/// How long a new connection waits for an evicted one to close before it is dropped
/// itself (an evicted connection closes as soon as its task runs).
const ROOM_WAIT: Duration = Duration::from_secs(1);

/// What a connection shares with its listener.
struct Shared {
    /// Microseconds since the listener started when the connection last wrote an answer
    /// (or was accepted).
    last_active_us: AtomicU64,
    /// Set to make the connection close.
    evicted: AtomicBool,
    /// The connection's task, woken to see `evicted`.
    waker: AtomicWaker,
}

/// The open connections of one listener.
struct Registry {
    started: Instant,
    open: Mutex<HashMap<u64, Arc<Shared>>>,
    freed: Notify,
}

impl Registry {
    fn now_us(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn len(&self) -> usize {
        self.open.lock().map_or(0, |open| open.len())
    }

    /// Marks the connection idle longest (not already marked) to close; false when every
    /// open connection is already marked.
    fn evict_longest_idle(&self) -> bool {
        let Ok(open) = self.open.lock() else {
            return false;
        };
        let victim = open
            .values()
            .filter(|c| !c.evicted.load(Ordering::Acquire))
            .min_by_key(|c| c.last_active_us.load(Ordering::Acquire));
        match victim {
            Some(victim) => {
                victim.evicted.store(true, Ordering::Release);
                victim.waker.wake();
                true
            }
            None => false,
        }
    }

    fn remove(&self, id: u64) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&id);
        }
        self.freed.notify_one();
    }
}

/// A TCP listener that applies [`ConnectionLimits`] to what it accepts; serve it with
/// `axum::serve` (it is an [`axum::serve::Listener`]) or, through [`Self::incoming`], with
/// tonic.
pub struct LimitedListener {
    listener: TcpListener,
    limits: ConnectionLimits,
    registry: Arc<Registry>,
    next_id: u64,
}

impl LimitedListener {
    /// Wraps a bound listener.
    pub fn new(listener: TcpListener, limits: ConnectionLimits) -> LimitedListener {
        LimitedListener {
            listener,
            limits: ConnectionLimits {
                max_connections: limits.max_connections.max(1),
                ..limits
            },
            registry: Arc::new(Registry {
                started: Instant::now(),
                open: Mutex::new(HashMap::new()),
                freed: Notify::new(),
            }),
            next_id: 0,
        }
    }

    /// Connections open now (those being closed included).
    pub fn open_connections(&self) -> usize {
        self.registry.len()
    }

    /// The next connection within the limits; never fails (accept errors are logged and
    /// retried).
    pub async fn accept_limited(&mut self) -> (LimitedStream, SocketAddr) {
        loop {
            let (stream, address) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // A connection reset before it was accepted is nothing; anything else
                    // (out of open files) is, and retrying at once would spin.
                    if !matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::ConnectionRefused
                    ) {
                        tracing::warn!("accepting a connection: {e}; retrying in 1 s");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    continue;
                }
            };
            if !self.make_room().await {
                tracing::debug!(%address, "connection dropped: every slot is taken");
                continue;
            }
            let _ = stream.set_nodelay(true);
            return (self.register(stream), address);
        }
    }

    /// Below the cap, evicting the longest idle connection if need be; false when no room
    /// came within [`ROOM_WAIT`].
    async fn make_room(&self) -> bool {
        let registry = &self.registry;
        if registry.len() < self.limits.max_connections {
            return true;
        }
        registry.evict_longest_idle();
        let deadline = Instant::now() + ROOM_WAIT;
        loop {
            let freed = registry.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if registry.len() < self.limits.max_connections {
                return true;
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return registry.len() < self.limits.max_connections;
            }
        }
    }

    fn register(&mut self, stream: TcpStream) -> LimitedStream {
        let id = self.next_id;
        self.next_id += 1;
        let shared = Arc::new(Shared {
            last_active_us: AtomicU64::new(self.registry.now_us()),
            evicted: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        });
        if let Ok(mut open) = self.registry.open.lock() {
            open.insert(id, shared.clone());
        }
        let now = Instant::now();
        LimitedStream {
            inner: stream,
            id,
            shared,
            registry: self.registry.clone(),
            idle_timeout: self.limits.idle_timeout,
            last_active: now,
            timer: Box::pin(tokio::time::sleep_until(now + self.limits.idle_timeout)),
        }
    }

    /// The accepted connections as the stream tonic serves (it never ends nor fails).
    pub fn incoming(
        self,
    ) -> impl futures::Stream<Item = Result<LimitedStream, io::Error>> + Send + 'static {
        futures::stream::unfold(self, |mut listener| async move {
            let (stream, _) = listener.accept_limited().await;
            Some((Ok(stream), listener))
        })
    }
}

impl axum::serve::Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = SocketAddr;

    fn accept(&mut self) -> impl Future<Output = (Self::Io, Self::Addr)> + Send {
        self.accept_limited()
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// An accepted connection that closes when idle too long or when evicted: a read then
/// ends (end of stream) and a write fails, so the server drops the connection.
pub struct LimitedStream {
    inner: TcpStream,
    id: u64,
    shared: Arc<Shared>,
    registry: Arc<Registry>,
    idle_timeout: Duration,
    last_active: Instant,
    timer: Pin<Box<Sleep>>,
}

impl LimitedStream {
    /// True when the connection must close (evicted, or idle past its timeout); otherwise
    /// the task is woken at the idle deadline or on eviction.
    fn must_close(&mut self, cx: &mut Context<'_>) -> bool {
        self.shared.waker.register(cx.waker());
        if self.shared.evicted.load(Ordering::Acquire) {
            return true;
        }
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            let deadline = self.last_active + self.idle_timeout;
            if Instant::now() >= deadline {
                return true;
            }
            self.timer.as_mut().reset(deadline);
        }
    }

    fn written(&mut self, bytes: usize) {
        if bytes > 0 {
            self.last_active = Instant::now();
            self.shared
                .last_active_us
                .store(self.registry.now_us(), Ordering::Release);
        }
    }

    fn closed() -> io::Error {
        io::Error::new(
            io::ErrorKind::TimedOut,
            "connection closed: idle too long, or making room for another",
        )
    }
}

impl Drop for LimitedStream {
    fn drop(&mut self) {
        self.registry.remove(self.id);
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.shared.evicted.load(Ordering::Acquire) {
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Pending if this.must_close(cx) => Poll::Ready(Ok(())),
            other => other,
        }
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.shared.evicted.load(Ordering::Acquire) {
            return Poll::Ready(Err(Self::closed()));
        }
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                this.written(n);
                Poll::Ready(Ok(n))
            }
            Poll::Pending if this.must_close(cx) => Poll::Ready(Err(Self::closed())),
            other => other,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.shared.evicted.load(Ordering::Acquire) {
            return Poll::Ready(Err(Self::closed()));
        }
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => {
                this.written(n);
                Poll::Ready(Ok(n))
            }
            Poll::Pending if this.must_close(cx) => Poll::Ready(Err(Self::closed())),
            other => other,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending if this.must_close(cx) => Poll::Ready(Err(Self::closed())),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl tonic::transport::server::Connected for LimitedStream {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves through the limits: echoes what each connection sends, or (`echo` false)
    /// reads it and never answers.
    async fn serve(limits: ConnectionLimits, echo: bool) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mut limited = LimitedListener::new(listener, limits);
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = limited.accept_limited().await;
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 || (echo && stream.write_all(&buf[..n]).await.is_err()) {
                            break;
                        }
                    }
                });
            }
        });
        address
    }

    /// True when the server closed `stream` within `within`.
    async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
        let mut buf = [0u8; 8];
        matches!(
            tokio::time::timeout(within, stream.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    }

    async fn round_trip(stream: &mut TcpStream) {
        let mut buf = [0u8; 2];
        stream.write_all(b"ok").await.unwrap();
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    }

    #[tokio::test]
    async fn the_longest_idle_connection_makes_room_for_a_new_one() {
        let limits = ConnectionLimits {
            max_connections: 3,
            idle_timeout: Duration::from_secs(30),
        };
        let address = serve(limits, true).await;
        // Each answered in turn (an answer, not a pause, orders them).
        let mut first = TcpStream::connect(address).await.unwrap();
        round_trip(&mut first).await;
        let mut second = TcpStream::connect(address).await.unwrap();
        round_trip(&mut second).await;
        let mut third = TcpStream::connect(address).await.unwrap();
        round_trip(&mut third).await;
        // The first was answered last: the second is now the longest without an answer.
        round_trip(&mut first).await;
        let mut fourth = TcpStream::connect(address).await.unwrap();
        assert!(closed_within(&mut second, Duration::from_secs(5)).await);
        for stream in [&mut first, &mut third, &mut fourth] {
            assert!(!closed_within(stream, Duration::from_millis(100)).await);
            round_trip(stream).await;
        }
    }

    #[tokio::test]
    async fn a_connection_without_an_answer_is_closed_after_the_idle_timeout() {
        let timeout = Duration::from_millis(400);
        let limits = ConnectionLimits {
            max_connections: 8,
            idle_timeout: timeout,
        };
        let echo = serve(limits, true).await;
        let mut silent = TcpStream::connect(echo).await.unwrap();
        let mut chatty = TcpStream::connect(echo).await.unwrap();
        let started = std::time::Instant::now();
        // Answers keep `chatty` open past the timeout; `silent` is closed.
        for _ in 0..8 {
            round_trip(&mut chatty).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(started.elapsed() > timeout);
        assert!(closed_within(&mut silent, Duration::from_secs(2)).await);
        round_trip(&mut chatty).await;

        // Sending without being answered is no activity: a client trickling bytes to a
        // server that never answers is closed all the same.
        let sink = serve(limits, false).await;
        let mut trickling = TcpStream::connect(sink).await.unwrap();
        let started = std::time::Instant::now();
        let closed = loop {
            if trickling.write_all(b"y").await.is_err()
                || closed_within(&mut trickling, Duration::from_millis(100)).await
            {
                break started.elapsed();
            }
            assert!(started.elapsed() < Duration::from_secs(5), "never closed");
        };
        assert!(closed >= timeout, "{closed:?}");
    }
}
