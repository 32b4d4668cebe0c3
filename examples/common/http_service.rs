//! The HTTP service of `examples/http.rs`, shared with the HTTP tests and benchmark: what each
//! route answers, and how one connection is served with hyper on the runtime.
//!
//! - `GET /` → `200`, body `Hello, world!`
//! - `POST /echo` → `200`, the request body streamed back as it arrives (any size, chunked or not)
//! - anything else → `404`
//!
//! A malformed request gets hyper's `400` and a closed connection: only that connection ends.

#![allow(dead_code)] // each user takes the parts it needs

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

/// Every response body: a fixed one, or the request's own body flowing back.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// Answers one request.
pub async fn route(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let response = match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => Response::new(full("Hello, world!")),
        // Streamed: the body is not collected first, so its size is not limited by memory.
        (&Method::POST, "/echo") => Response::new(req.into_body().boxed()),
        _ => {
            let mut not_found = Response::new(empty());
            *not_found.status_mut() = StatusCode::NOT_FOUND;
            not_found
        }
    };
    Ok(response)
}

fn full(text: &'static str) -> Body {
    Full::new(Bytes::from_static(text.as_bytes()))
        .map_err(|never| match never {})
        .boxed()
}

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

/// Serves HTTP/1.1 with keep-alive on `stream` until the client leaves (or breaks the protocol).
pub async fn serve<S>(stream: S)
where
    S: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
{
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(runtime::interop::HyperTimer)
        .serve_connection(stream, hyper::service::service_fn(route));
    if let Err(e) = conn.await {
        // A client that resets or sends garbage ends only its own connection.
        if !e.is_incomplete_message() && !e.is_parse() {
            eprintln!("http: connection error: {e}");
        }
    }
}

/// Accepts connections for ever, each served by its own task.
pub async fn accept_loop(listener: runtime::net::TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                runtime::spawn(serve(stream));
            }
            Err(e) => {
                // EMFILE and friends: say so, let connections finish, try again.
                eprintln!("http: accept failed: {e}");
                runtime::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}
