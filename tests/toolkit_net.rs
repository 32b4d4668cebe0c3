//! The socket toolkit on every compiled backend: `TcpSocket`, `TcpListener::bind_reuseport`,
//! `TcpStream::{peek, set_linger, set_ttl, set_nodelay}`, `UdpSocket::{set_broadcast,
//! join_multicast_v4}`, and `into_std` / `from_std` / `AsFd` on every IO type.
//!
//! Loopback only; every wait that could hang is bounded by a timeout.

use std::future::{poll_fn, Future};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use runtime::io::{AsyncReadOwned, AsyncWriteOwned};
use runtime::net::{TcpListener, TcpSocket, TcpStream, UdpSocket, UnixListener, UnixStream};
use runtime::time::timeout;
use runtime::{Backend, Runtime};

/// Bounds a wait that could hang, making the hang a failure.
async fn bounded<F: Future>(future: F) -> F::Output {
    timeout(Duration::from_secs(10), future)
        .await
        .expect("timed out")
}

/// Writes all of `bytes` to `stream`.
async fn send(mut stream: impl AsyncWriteOwned, bytes: &'static str) -> io::Result<()> {
    let (res, _) = bounded(stream.write_all(bytes)).await;
    res
}

/// Reads exactly as many bytes as `expected` holds from `stream`, and checks them.
async fn expect_read(mut stream: impl AsyncReadOwned, expected: &str) -> io::Result<()> {
    let (res, buf) = bounded(stream.read_exact(Vec::with_capacity(expected.len()))).await;
    res?;
    assert_eq!(String::from_utf8_lossy(&buf), expected);
    Ok(())
}

/// A connected pair over loopback: (client, server).
async fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let client = bounded(TcpStream::connect(listener.local_addr()?)).await?;
    let (server, _) = bounded(listener.accept()).await?;
    Ok((client, server))
}

/// An `int` socket option read straight from the kernel.
fn int_option(fd: &impl AsRawFd, level: libc::c_int, name: libc::c_int) -> libc::c_int {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are writable and sized as we say.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "getsockopt: {}", io::Error::last_os_error());
    value
}

fn is_listening(fd: &impl AsRawFd) -> bool {
    int_option(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN) != 0
}

/// Accepts one connection from whichever of two listeners has one first.
async fn accept_either(a: &TcpListener, b: &TcpListener) -> io::Result<TcpStream> {
    let (mut from_a, mut from_b) = (pin!(a.accept()), pin!(b.accept()));
    let accepted = poll_fn(|cx| {
        if let Poll::Ready(r) = from_a.as_mut().poll(cx) {
            return Poll::Ready(r);
        }
        from_b.as_mut().poll(cx)
    });
    Ok(bounded(accepted).await?.0)
}

#[runtime::test]
async fn tcp_socket_reuseport_binds_two_listeners_to_one_port() -> io::Result<()> {
    let reusing = || -> io::Result<TcpSocket> {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseport(true)?;
        assert!(socket.reuseport()?);
        Ok(socket)
    };
    let first = reusing()?;
    first.bind("127.0.0.1:0".parse().unwrap())?;
    let addr = first.local_addr()?;
    let second = reusing()?;
    second.bind(addr)?;
    let (first, second) = (first.listen(64)?, second.listen(64)?);
    assert!(is_listening(&first) && is_listening(&second));
    assert_eq!(second.local_addr()?, addr);

    // A socket without the option cannot join them.
    let outsider = TcpSocket::new_v4()?;
    assert_eq!(
        outsider.bind(addr).unwrap_err().kind(),
        ErrorKind::AddrInUse
    );

    // Connections to the port reach the two listeners: all of them are accepted.
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(bounded(TcpStream::connect(addr)).await?);
    }
    for _ in &clients {
        accept_either(&first, &second).await?;
    }

    // The convenience does the same.
    let a = TcpListener::bind_reuseport("127.0.0.1:0")?;
    let b = TcpListener::bind_reuseport(a.local_addr()?)?;
    assert!(is_listening(&a) && is_listening(&b));
    Ok(())
}

#[runtime::test]
async fn tcp_socket_options_are_applied_and_kept() -> io::Result<()> {
    let listener_socket = TcpSocket::new_v4()?;
    listener_socket.set_reuseaddr(true)?;
    assert!(listener_socket.reuseaddr()?);
    listener_socket.set_recv_buffer_size(40 * 1024)?;
    let listener_rcvbuf = listener_socket.recv_buffer_size()?;
    assert!(listener_rcvbuf >= 40 * 1024, "{listener_rcvbuf}");
    listener_socket.bind("127.0.0.1:0".parse().unwrap())?;
    let listener = listener_socket.listen(16)?;

    let client = TcpSocket::new_v4()?;
    client.set_send_buffer_size(48 * 1024)?;
    client.set_recv_buffer_size(56 * 1024)?;
    client.set_nodelay(true)?;
    client.set_linger(Some(Duration::from_secs(3)))?;
    let (sndbuf, rcvbuf) = (client.send_buffer_size()?, client.recv_buffer_size()?);
    assert!(
        sndbuf >= 48 * 1024 && rcvbuf >= 56 * 1024,
        "{sndbuf} {rcvbuf}"
    );
    assert_ne!(sndbuf, rcvbuf, "each size is its own");
    assert!(client.nodelay()?);
    assert_eq!(client.linger()?, Some(Duration::from_secs(3)));

    let stream = bounded(client.connect(listener.local_addr()?)).await?;
    let (accepted, _) = bounded(listener.accept()).await?;
    // The connection keeps what the socket was given, and an accepted one what its listener was.
    let (sol, sndbuf_opt, rcvbuf_opt) = (libc::SOL_SOCKET, libc::SO_SNDBUF, libc::SO_RCVBUF);
    assert_eq!(int_option(&stream, sol, sndbuf_opt) as u32, sndbuf);
    assert_eq!(int_option(&stream, sol, rcvbuf_opt) as u32, rcvbuf);
    assert_eq!(
        int_option(&accepted, sol, rcvbuf_opt) as u32,
        listener_rcvbuf
    );
    assert!(stream.nodelay()?);
    assert_eq!(stream.linger()?, Some(Duration::from_secs(3)));

    // IPv6, where the machine has it.
    match TcpSocket::new_v6() {
        Ok(v6) => {
            v6.set_nodelay(true)?;
            assert!(v6.nodelay()?);
        }
        Err(e) => eprintln!("no IPv6 sockets here: {e}"),
    }
    Ok(())
}

#[runtime::test]
async fn tcp_stream_options() -> io::Result<()> {
    let (client, _server) = tcp_pair().await?;
    assert!(!client.nodelay()?);
    client.set_nodelay(true)?;
    assert!(client.nodelay()?);
    assert_eq!(client.linger()?, None);
    client.set_linger(Some(Duration::ZERO))?;
    assert_eq!(client.linger()?, Some(Duration::ZERO));
    client.set_linger(None)?;
    assert_eq!(client.linger()?, None);
    client.set_ttl(7)?;
    assert_eq!(client.ttl()?, 7);
    Ok(())
}

/// A linger of zero resets the connection on close: the peer reads `ConnectionReset`.
#[runtime::test]
async fn linger_zero_resets_on_close() -> io::Result<()> {
    let (client, server) = tcp_pair().await?;
    client.set_linger(Some(Duration::ZERO))?;
    drop(client);
    let (res, _) = bounded(server.read(Vec::with_capacity(8))).await;
    assert_eq!(res.unwrap_err().kind(), ErrorKind::ConnectionReset);
    Ok(())
}

#[runtime::test]
async fn peek_waits_for_data_and_takes_nothing() -> io::Result<()> {
    let (client, server) = tcp_pair().await?;
    // Nothing to see yet: the peek waits.
    let mut peek = pin!(server.peek(Vec::with_capacity(64)));
    let first_poll = poll_fn(|cx| Poll::Ready(peek.as_mut().poll(cx).is_pending())).await;
    assert!(first_poll, "a peek on an empty socket waits");
    send(&client, "hello").await?;
    let (res, seen) = bounded(peek).await;
    assert_eq!(&seen[..res?], b"hello");
    // Peeking again sees the same bytes; a read then takes them.
    let (res, again) = bounded(server.peek(Vec::with_capacity(2))).await;
    assert_eq!(&again[..res?], b"he");
    expect_read(&server, "hello").await?;
    // End of stream: peek sees it as a read does.
    client.shutdown(std::net::Shutdown::Write)?;
    let (res, _) = bounded(server.peek(Vec::with_capacity(8))).await;
    assert_eq!(res?, 0);
    Ok(())
}

/// With io_uring's multishot receive, bytes are read ahead into the runtime: a peek must show
/// them without taking them, and a read must still get them.
#[test]
fn peek_sees_bytes_read_ahead_by_multishot_receive() -> io::Result<()> {
    let Some(rt) = multishot_runtime() else {
        return Ok(());
    };
    rt.block_on(async {
        let (client, server) = tcp_pair().await?;
        send(&client, "abcdef").await?;
        expect_read(&server, "ab").await?;
        if runtime::stats().uring_feed_cqes == 0 {
            eprintln!("skipped: this kernel has no multishot receive");
            return Ok(());
        }
        let (res, seen) = bounded(server.peek(Vec::with_capacity(16))).await;
        assert_eq!(&seen[..res?], b"cdef");
        expect_read(&server, "cdef").await?;

        // `into_std` refuses to lose bytes the runtime read ahead.
        send(&client, "gh").await?;
        expect_read(&server, "g").await?;
        let err = server.into_std().unwrap_err();
        assert!(err.to_string().contains("read or accept it"), "{err}");
        Ok(())
    })
}

/// An io_uring runtime with multishot receive, where the kernel allows io_uring.
fn multishot_runtime() -> Option<Runtime> {
    if !Backend::compiled().contains(&Backend::IoUring) {
        return None;
    }
    let built = Runtime::builder()
        .backend(Backend::IoUring)
        .multishot_recv(true)
        .build();
    match built {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

#[runtime::test]
async fn udp_broadcast_and_multicast_options() -> io::Result<()> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    assert!(!socket.broadcast()?);
    socket.set_broadcast(true)?;
    assert!(socket.broadcast()?);
    socket.set_broadcast(false)?;
    assert!(!socket.broadcast()?);

    // Joining a group answers as std does for the same request (whether the machine routes
    // multicast or not), and leaving undoes it.
    let group = Ipv4Addr::new(239, 255, 43, 21);
    let theirs = std::net::UdpSocket::bind("0.0.0.0:0")?;
    let ours = UdpSocket::bind("0.0.0.0:0")?;
    for interface in [Ipv4Addr::LOCALHOST, Ipv4Addr::UNSPECIFIED] {
        let expected = theirs
            .join_multicast_v4(&group, &interface)
            .map_err(|e| e.kind());
        let got = ours
            .join_multicast_v4(group, interface)
            .map_err(|e| e.kind());
        assert_eq!(got, expected, "join on {interface}");
        if got.is_ok() {
            ours.leave_multicast_v4(group, interface)?;
            theirs.leave_multicast_v4(&group, &interface)?;
        }
    }
    // Not a multicast address: refused.
    let err = ours.join_multicast_v4(Ipv4Addr::LOCALHOST, Ipv4Addr::UNSPECIFIED);
    assert_eq!(err.unwrap_err().kind(), ErrorKind::InvalidInput);
    Ok(())
}

/// `as_fd` borrows the same descriptor `as_raw_fd` names.
fn same_fd(io: &(impl AsFd + AsRawFd)) {
    assert_eq!(io.as_fd().as_raw_fd(), io.as_raw_fd());
}

#[runtime::test]
async fn tcp_types_round_trip_through_std() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    same_fd(&listener);
    let addr = listener.local_addr()?;
    let listener = TcpListener::from_std(listener.into_std()?)?;
    assert_eq!(listener.local_addr()?, addr);

    let client = bounded(TcpStream::connect(addr)).await?;
    let (server, peer) = bounded(listener.accept()).await?;
    same_fd(&client);
    assert_eq!(client.local_addr()?, peer);

    // To std: still non-blocking, as tokio leaves it.
    let mut client = client.into_std()?;
    let mut byte = [0];
    assert_eq!(
        client.read(&mut byte).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    client.set_nonblocking(false)?;
    client.write_all(b"from std")?;
    expect_read(&server, "from std").await?;

    // And back: the runtime's stream works on it again.
    let client = TcpStream::from_std(client)?;
    send(&server, "back").await?;
    expect_read(&client, "back").await?;
    Ok(())
}

#[runtime::test]
async fn udp_socket_round_trips_through_std() -> io::Result<()> {
    let a = UdpSocket::bind("127.0.0.1:0")?;
    let b = UdpSocket::bind("127.0.0.1:0")?;
    same_fd(&a);
    let a = a.into_std()?;
    a.set_nonblocking(false)?;
    a.send_to(b"ping", b.local_addr()?)?;
    let (res, buf) = bounded(b.recv_from(Vec::with_capacity(16))).await;
    let (n, from) = res?;
    assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
    let a = UdpSocket::from_std(a)?;
    let (res, _) = b.send_to(b"pong".as_slice(), a.local_addr()?).await;
    res?;
    let (res, buf) = bounded(a.recv(Vec::with_capacity(16))).await;
    assert_eq!(&buf[..res?], b"pong");
    Ok(())
}

#[runtime::test]
async fn unix_types_round_trip_through_std() -> io::Result<()> {
    let path = std::env::temp_dir().join(format!(
        "runtime-toolkit-{}-{}",
        std::process::id(),
        runtime::backend()
    ));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    same_fd(&listener);
    let listener = UnixListener::from_std(listener.into_std()?)?;
    let client = bounded(UnixStream::connect(&path)).await?;
    let (server, _) = bounded(listener.accept()).await?;
    let _ = std::fs::remove_file(&path);
    same_fd(&server);

    let mut server = server.into_std()?;
    server.set_nonblocking(false)?;
    server.write_all(b"std")?;
    expect_read(&client, "std").await?;
    let server = UnixStream::from_std(server)?;
    send(&client, "ours").await?;
    expect_read(&server, "ours").await?;
    Ok(())
}

/// A listener can also start from a plain address list, as `TcpListener::bind` takes it.
#[test]
fn bind_reuseport_takes_any_address_form() -> io::Result<()> {
    let addrs: [SocketAddr; 1] = ["127.0.0.1:0".parse().unwrap()];
    let listener = TcpListener::bind_reuseport(&addrs[..])?;
    assert!(is_listening(&listener));
    Ok(())
}

/// A socket handed to `std` leaves the runtime's epoll set: no epoll instance of the process
/// still watches its open socket (each watched file is listed with its inode in the epoll
/// descriptor's `/proc/self/fdinfo`), so its traffic no longer wakes the runtime.
#[runtime::test]
async fn into_std_takes_the_socket_out_of_the_epoll_set() {
    use std::os::fd::AsRawFd;
    let listener = runtime::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || std::net::TcpStream::connect(addr).unwrap());
    let (stream, _) = listener.accept().await.unwrap();
    let _peer = client.join().unwrap();
    // Register it (under epoll a write waits for writability first), then hand it over.
    let (res, _) = stream.write_all(&b"x"[..]).await;
    res.unwrap();
    let std_stream = stream.into_std().unwrap();
    // SAFETY: fstat writes into a zeroed stat we own.
    let inode = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        assert_eq!(libc::fstat(std_stream.as_raw_fd(), &mut st), 0);
        st.st_ino
    };
    let watched = format!("ino:{inode:x} ");
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let is_epoll = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy() == "anon_inode:[eventpoll]");
        if !is_epoll {
            continue;
        }
        let name = entry.file_name();
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", name.to_string_lossy()))
            .unwrap_or_default();
        assert!(
            !info.contains(&watched),
            "epoll descriptor {name:?} still watches the handed-over socket:\n{info}"
        );
    }
}
