//! An axum application served through hyper on the runtime, unchanged: a `Router` with shared
//! state and JSON in and out, on either backend.
//!
//! ```text
//! cargo run --release --example axum -- --addr 127.0.0.1:3000
//! curl http://127.0.0.1:3000/counter                                   # {"hits":0}
//! curl -H 'content-type: application/json' -d '{"a":2,"b":40}' http://127.0.0.1:3000/sum
//! ```
//!
//! The first line printed is `listening on ADDR`; Ctrl-C stops it.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper::Request;
use serde::{Deserialize, Serialize};
use tower_service::Service;

/// Shared by every request (axum wants state `Clone + Send + Sync`).
#[derive(Clone, Default)]
struct AppState {
    hits: Arc<AtomicU64>,
}

#[derive(Serialize)]
struct Counter {
    hits: u64,
}

#[derive(Deserialize)]
struct Terms {
    a: i64,
    b: i64,
}

#[derive(Serialize)]
struct Sum {
    sum: i64,
}

async fn counter(State(state): State<AppState>) -> Json<Counter> {
    Json(Counter {
        hits: state.hits.load(Ordering::Relaxed),
    })
}

async fn sum(State(state): State<AppState>, Json(terms): Json<Terms>) -> Json<Sum> {
    state.hits.fetch_add(1, Ordering::Relaxed);
    Json(Sum {
        sum: terms.a + terms.b,
    })
}

/// The application: two routes, JSON in and out, one shared state.
fn app() -> Router {
    Router::new()
        .route("/counter", get(counter))
        .route("/sum", post(sum))
        .with_state(AppState::default())
}

#[runtime::main]
async fn main() -> io::Result<()> {
    let addr = match std::env::args().skip_while(|a| a != "--addr").nth(1) {
        Some(addr) => addr,
        None => "127.0.0.1:3000".to_string(),
    };
    let listener = runtime::net::TcpListener::bind(&addr)?;
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?;
    let app = app();
    runtime::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let app = app.clone();
            // The Router is a tower `Service`; hyper calls it through `service_fn`.
            let service =
                hyper::service::service_fn(move |req: Request<Incoming>| app.clone().call(req));
            runtime::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(runtime::interop::HyperTimer)
                    .serve_connection(stream, service)
                    .await;
            });
        }
    });
    runtime::signal::ctrl_c().await?;
    Ok(())
}
