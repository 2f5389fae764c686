//! A real SMTP server (mailin-embedded) on a local port, recording what it
//! receives and refusing on demand.

use mailin_embedded::{response, Handler, Response, Server};
use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// Refuse the next N messages at the end of DATA with this code.
    refuse_data: Option<(u32, u16)>,
    /// Refuse every recipient with this code.
    refuse_rcpt: Option<u16>,
    /// Refuse every sender (`MAIL FROM`) with this code.
    refuse_mail: Option<u16>,
    /// Answer each message this long after its data (a slow relay).
    delay: std::time::Duration,
    /// Messages being answered right now, and the most there were at once.
    in_flight: usize,
    most_in_flight: usize,
}

#[derive(Clone)]
struct Sink {
    state: Arc<Mutex<State>>,
    current: Received,
}

impl Handler for Sink {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        if let Some(code) = self.state.lock().unwrap().refuse_mail {
            return Response::custom(code, "Sender refused".to_owned());
        }
        self.current = Received {
            from: from.to_owned(),
            ..Received::default()
        };
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if let Some(code) = self.state.lock().unwrap().refuse_rcpt {
            return Response::custom(code, "No such user here".to_owned());
        }
        self.current.to.push(to.to_owned());
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let delay = {
            let mut state = self.state.lock().unwrap();
            state.in_flight += 1;
            state.most_in_flight = state.most_in_flight.max(state.in_flight);
            state.delay
        };
        std::thread::sleep(delay);
        let mut state = self.state.lock().unwrap();
        state.in_flight -= 1;
        if let Some((n, code)) = state.refuse_data {
            state.refuse_data = (n > 1).then_some((n - 1, code));
            return Response::custom(code, "Try again later".to_owned());
        }
        state.received.push(std::mem::take(&mut self.current));
        response::OK
    }
}

pub struct SmtpSink {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl SmtpSink {
    pub fn start() -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    /// Serves on this listener (to bring a server "back" on a known port).
    pub fn start_on(listener: TcpListener) -> Self {
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let mut server = Server::new(Sink {
            state: state.clone(),
            current: Received::default(),
        });
        server
            .with_name("sink.test")
            .with_num_threads(8)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self { port, state }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    pub fn refuse_next_messages(&self, n: u32, code: u16) {
        self.state.lock().unwrap().refuse_data = Some((n, code));
    }

    pub fn refuse_recipients(&self, code: u16) {
        self.state.lock().unwrap().refuse_rcpt = Some(code);
    }

    pub fn refuse_senders(&self, code: Option<u16>) {
        self.state.lock().unwrap().refuse_mail = code;
    }

    /// Answers each message only after this long.
    pub fn answer_after(&self, delay: std::time::Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    /// The most messages it was answering at the same time.
    pub fn most_at_once(&self) -> usize {
        self.state.lock().unwrap().most_in_flight
    }

    /// Distinct messages received, by Message-ID.
    pub fn distinct(&self) -> usize {
        let mut ids: Vec<String> = self
            .received()
            .iter()
            .filter_map(|m| {
                String::from_utf8_lossy(&m.data)
                    .lines()
                    .find_map(|l| l.strip_prefix("Message-ID: ").map(str::to_owned))
            })
            .collect();
        ids.sort();
        ids.dedup();
        ids.len()
    }
}
