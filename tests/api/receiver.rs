//! A real HTTP receiver for webhook tests: an actix-web server on port 0
//! that records every request and answers with the statuses it was told
//! (200 once they run out), or not at all while told to hang.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, Mutex,
};
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    /// The W3C trace context sent along, if any.
    pub traceparent: String,
    pub body: String,
}

#[derive(Default)]
struct Script {
    received: Mutex<Vec<Received>>,
    statuses: Mutex<Vec<u16>>,
    hang: AtomicBool,
}

pub struct Receiver {
    pub url: String,
    script: Arc<Script>,
    server: actix_web::dev::ServerHandle,
}

impl Receiver {
    pub fn start() -> Self {
        let script = Arc::new(Script::default());
        let shared = web::Data::from(script.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            script,
            server: handle,
        }
    }

    /// The next answers, in order.
    pub fn answer_with(&self, statuses: &[u16]) {
        *self.script.statuses.lock().unwrap() = statuses.to_vec();
    }

    /// Takes requests and never answers them, until told otherwise.
    pub fn hang(&self, hang: bool) {
        self.script.hang.store(hang, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.received.lock().unwrap().clone()
    }

    /// Waits up to `within` for `n` requests.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        while self.received().len() < n && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.received()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let server = self.server.clone();
        tokio::spawn(async move { server.stop(false).await });
    }
}

async fn answer(req: HttpRequest, body: web::Bytes, script: web::Data<Script>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    script.received.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        traceparent: header("traceparent"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    while script.hang.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = {
        let mut statuses = script.statuses.lock().unwrap();
        if statuses.is_empty() {
            200
        } else {
            statuses.remove(0)
        }
    };
    let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    if (300..400).contains(&status) {
        // Somewhere a redirect-following client would go next.
        answer.insert_header(("location", "/elsewhere"));
    }
    answer.finish()
}
