//! The echo benchmark's Tokio server: Tokio's idiomatic echo, a task per
//! connection reading into a 64 KiB buffer and writing back what it read.
//!
//!     tokio-echo -a HOST:PORT [-w WORKERS]
//!
//! -w 0 (the default) runs Tokio's current-thread runtime, the one-CPU contender
//! `tokio`; -w N its multi-thread runtime with N workers (`tokio-mt2`: 2).
//!
//! It speaks the runner's protocol (bench/echo/server): "ready ADDR" on stdout once
//! it listens; every "mark" line on stdin answers "mark 0" (no allocation count);
//! SIGTERM or SIGINT print "stats {...}" and exit.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};

const BUF_SIZE: usize = 64 * 1024;

#[derive(Default)]
struct Counters {
    open: AtomicI64,
    accepted: AtomicU64,
    closed: AtomicU64,
    errors: AtomicU64,
}

fn usage(msg: &str) -> ! {
    eprintln!("tokio-echo: {msg}\nusage: tokio-echo -a HOST:PORT [-w WORKERS]");
    std::process::exit(2);
}

fn main() {
    let mut addr = String::from("127.0.0.1:0");
    let mut workers: usize = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-a" => addr = args.next().unwrap_or_else(|| usage("-a needs a value")),
            "-w" => {
                workers = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage("-w needs a number"))
            }
            _ => usage(&format!("unknown argument {a:?}")),
        }
    }
    let rt = if workers == 0 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
    };
    let rt = rt.unwrap_or_else(|e| {
        eprintln!("tokio-echo: runtime: {e}");
        std::process::exit(1)
    });
    let flavor = if workers == 0 { "current_thread" } else { "multi_thread" };
    if let Err(e) = rt.block_on(serve(addr, workers, flavor)) {
        eprintln!("tokio-echo: {e}");
        std::process::exit(1);
    }
}

async fn serve(addr: String, workers: usize, flavor: &'static str) -> std::io::Result<()> {
    let ln = TcpListener::bind(&addr).await?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let c = Arc::new(Counters::default());
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "ready {}", ln.local_addr()?)?;
        out.flush()?;
    }
    // The runner's "mark" lines, answered from a plain thread that sleeps in
    // read(2) between them, off the runtime's threads.
    std::thread::spawn(|| {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            match line {
                Ok(l) if l == "mark" => {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "mark 0");
                    let _ = out.flush();
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    loop {
        tokio::select! {
            r = ln.accept() => {
                let (s, _) = match r {
                    Ok(v) => v,
                    // Out of descriptors or a connection reset before accept: keep serving.
                    Err(_) => { c.errors.fetch_add(1, Ordering::Relaxed); continue; }
                };
                c.accepted.fetch_add(1, Ordering::Relaxed);
                c.open.fetch_add(1, Ordering::Relaxed);
                let c = c.clone();
                tokio::spawn(async move {
                    let mut s = s;
                    if echo(&mut s).await.is_err() {
                        c.errors.fetch_add(1, Ordering::Relaxed);
                    }
                    // Counted before the close, which the peer sees.
                    c.open.fetch_sub(1, Ordering::Relaxed);
                    c.closed.fetch_add(1, Ordering::Relaxed);
                    drop(s);
                });
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "stats {{\"impl\":\"tokio\",\"flavor\":\"{}\",\"workers\":{},\"accepted\":{},\"closed\":{},\"open_conns\":{},\"conn_errors\":{}}}",
        flavor,
        workers,
        c.accepted.load(Ordering::Relaxed),
        c.closed.load(Ordering::Relaxed),
        c.open.load(Ordering::Relaxed),
        c.errors.load(Ordering::Relaxed)
    )?;
    out.flush()?;
    // Exit without waiting for the connection tasks, as the other servers do.
    std::process::exit(0);
}

async fn echo(s: &mut TcpStream) -> std::io::Result<()> {
    s.set_nodelay(true)?;
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        s.write_all(&buf[..n]).await?;
    }
}
