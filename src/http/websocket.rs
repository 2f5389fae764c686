//! GraphQL over WebSocket on `GET /graphql`: the `graphql-transport-ws`
//! protocol (the `graphql-ws` library's, which Apollo Client and urql use).
//!
//! Written here over `actix-ws` rather than taken from
//! async-graphql-actix-web, whose actor closes a refused
//! `connection_init` with 1002 (the protocol says 4403), cannot close a
//! socket when its token expires, and has no per-socket subscription
//! limit. The protocol is small; each rule of it is one arm below.
//!
//! A socket: `connection_init` with `{"Authorization": "Bearer <JWT>"}`
//! within [`INIT_TIMEOUT`] (else 4408), a bad or missing token 4403,
//! `connection_ack`; then `subscribe` runs each operation as the HTTP edge
//! would (documents, limits, trusted documents) on a task of its own, its
//! results sent as `next`, its end as `complete`, a refusal before any
//! result as `error`. At the token's `exp` (plus the clock-skew allowance)
//! the socket is closed with 4403.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use async_graphql::{Response, ServerError};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::{collections::HashMap, time::Duration};
use tokio::{
    sync::{mpsc, oneshot},
    task::AbortHandle,
    time::Instant,
};

use super::{request::Params, request::Refused, AppState, RequestId};
use crate::error::{Error, Reason};
use crate::graphql::{self, errors, Auth, Listening};

pub(crate) const PROTOCOL: &str = "graphql-transport-ws";
/// How long a client has to send `connection_init`.
pub(crate) const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest the socket waits for a new subscription to listen.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether this `GET` asks for a WebSocket.
pub(crate) fn wanted(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// A browser page may open a socket only from an allowed origin, when
/// origins are configured (the token travels in the socket, not in a
/// cookie, so without a list any origin may).
fn origin_allowed(req: &HttpRequest, allowed: &[String]) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let allowed: Vec<&str> = allowed
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    allowed.is_empty()
        || origin
            .to_str()
            .is_ok_and(|o| allowed.iter().any(|a| a.eq_ignore_ascii_case(o)))
}

pub(crate) async fn upgrade(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    if !origin_allowed(&req, &state.allowed_origins) {
        return HttpResponse::Forbidden().body("This origin may not open a WebSocket here");
    }
    let offered = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL);
    let (response, session, stream) =
        match actix_ws::handle_with_protocols(&req, payload, &[PROTOCOL]) {
            Ok(handled) => handled,
            Err(e) => return e.error_response(),
        };
    let socket = Socket {
        state,
        request_id: RequestId::of(&req),
        session,
        operations: HashMap::new(),
    };
    let stream = stream
        .aggregate_continuations()
        .max_continuation_size(1 << 20);
    actix_web::rt::spawn(socket.run(stream, offered));
    response
}

/// What a client sends.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit { payload: Option<Value> },
    Ping {},
    Pong {},
    Subscribe { id: String, payload: Params },
    Complete { id: String },
}

/// What an operation's task hands the socket.
enum Outcome {
    Next(String, Response),
    Error(String, Vec<ServerError>),
    Complete(String),
}

/// Why the server closes a socket.
struct Close(u16, &'static str);

const INVALID: Close = Close(4400, "Invalid message");
const UNAUTHORIZED: Close = Close(4401, "Unauthorized");
const FORBIDDEN: Close = Close(4403, "Forbidden");
const SUBPROTOCOL: Close = Close(4406, "Subprotocol not acceptable");
const INIT_TIMED_OUT: Close = Close(4408, "Connection initialisation timeout");
const TOO_MANY_INITS: Close = Close(4429, "Too many initialisation requests");

struct Socket {
    state: web::Data<AppState>,
    request_id: String,
    session: Session,
    /// Running operations by the client's id.
    operations: HashMap<String, AbortHandle>,
}

impl Socket {
    async fn run(mut self, mut stream: actix_ws::AggregatedMessageStream, offered: bool) {
        if !offered {
            return self.close(SUBPROTOCOL).await;
        }
        let (tx, mut rx) = mpsc::channel::<Outcome>(64);
        let mut auth: Option<Auth> = None;
        // Before `connection_init`: its timeout; after: the token's end.
        let mut deadline = Instant::now() + INIT_TIMEOUT;
        let closing = loop {
            tokio::select! {
                message = stream.next() => {
                    let text = match message {
                        Some(Ok(AggregatedMessage::Text(text))) => text,
                        Some(Ok(AggregatedMessage::Ping(bytes))) => {
                            if self.session.pong(&bytes).await.is_err() { break None; }
                            continue;
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => continue,
                        Some(Ok(AggregatedMessage::Binary(_))) => break Some(INVALID),
                        Some(Ok(AggregatedMessage::Close(_))) | None => break None,
                        Some(Err(e)) => {
                            tracing::debug!(error = %e, "WebSocket protocol error");
                            break None;
                        }
                    };
                    let Ok(message) = serde_json::from_str::<ClientMessage>(&text) else {
                        break Some(INVALID);
                    };
                    match message {
                        ClientMessage::ConnectionInit { payload } => {
                            if auth.is_some() { break Some(TOO_MANY_INITS); }
                            match self.sign_in(payload).await {
                                Some((identity, until)) => {
                                    auth = Some(Auth::Valid(identity));
                                    deadline = until;
                                    if self.send(json!({"type": "connection_ack"})).await.is_err() { break None; }
                                }
                                None => break Some(FORBIDDEN),
                            }
                        }
                        ClientMessage::Ping {} => {
                            if self.send(json!({"type": "pong"})).await.is_err() { break None; }
                        }
                        ClientMessage::Pong {} => {}
                        ClientMessage::Subscribe { id, payload } => {
                            let Some(auth) = &auth else { break Some(UNAUTHORIZED) };
                            if self.operations.contains_key(&id) {
                                break Some(Close(4409, "Subscriber for this id already exists"));
                            }
                            if self.operations.len() >= self.state.limits.max_subscriptions {
                                let refusal = Error::bad_input(
                                    Reason::TooManySubscriptions,
                                    format!("At most {} operations at once on one socket", self.state.limits.max_subscriptions),
                                );
                                let e = async_graphql::Error::from(refusal).into_server_error(Default::default());
                                if self.send_error(&id, vec![e]).await.is_err() { break None; }
                                continue;
                            }
                            let (handle, listening) = self.start(id.clone(), payload, auth.clone(), tx.clone());
                            self.operations.insert(id, handle);
                            // The client's next message waits until the
                            // subscription listens (or ends): a `ping` after
                            // `subscribe` is answered once events reach it.
                            let _ = tokio::time::timeout(LISTEN_TIMEOUT, listening).await;
                        }
                        ClientMessage::Complete { id } => {
                            if let Some(handle) = self.operations.remove(&id) {
                                handle.abort();
                            }
                        }
                    }
                }
                Some(outcome) = rx.recv() => {
                    let sent = match outcome {
                        Outcome::Next(id, response) if self.operations.contains_key(&id) => {
                            self.send(json!({"id": id, "type": "next", "payload": response})).await
                        }
                        // The client completed it meanwhile.
                        Outcome::Next(..) => Ok(()),
                        Outcome::Error(id, errors) => {
                            self.operations.remove(&id);
                            self.send_error(&id, errors).await
                        }
                        Outcome::Complete(id) => {
                            if self.operations.remove(&id).is_some() {
                                self.send(json!({"id": id, "type": "complete"})).await
                            } else {
                                Ok(())
                            }
                        }
                    };
                    if sent.is_err() { break None; }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    break Some(if auth.is_some() { FORBIDDEN } else { INIT_TIMED_OUT });
                }
            }
        };
        for (_, handle) in self.operations.drain() {
            handle.abort();
        }
        if let Some(close) = closing {
            self.close(close).await;
        }
    }

    /// The socket's identity and when its token stops being valid, from
    /// the `connection_init` payload; `None` refuses the socket.
    async fn sign_in(
        &self,
        payload: Option<Value>,
    ) -> Option<(crate::domain::caller::Identity, Instant)> {
        let payload = payload?;
        let value = payload.as_object()?.iter().find_map(|(k, v)| {
            k.eq_ignore_ascii_case("authorization")
                .then(|| v.as_str())
                .flatten()
        })?;
        let token = crate::auth::bearer(value).ok()?;
        let (identity, until) = self.state.verifier.verify_session(token).await.ok()?;
        let left = until
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        Some((identity, Instant::now() + left))
    }

    /// Runs one operation on a task of its own, its results sent to `tx`;
    /// with what resolves once it listens (a subscription) or has ended.
    fn start(
        &self,
        id: String,
        payload: Params,
        auth: Auth,
        tx: mpsc::Sender<Outcome>,
    ) -> (AbortHandle, oneshot::Receiver<()>) {
        let state = self.state.clone();
        let request_id = self.request_id.clone();
        let (listening, listens) = Listening::new();
        let task = tokio::spawn(async move {
            let request = match payload.ready(&state.documents, &state.limits, false) {
                Ok(r) => r,
                Err(refused) => {
                    let e = match refused {
                        Refused::Http(r) => errors::coded(r.message, r.code),
                        Refused::NotFound(e) | Refused::Document(e) => e,
                    };
                    let _ = tx.send(Outcome::Error(id, vec![e])).await;
                    return;
                }
            };
            let request = graphql::prepare(request, &state.db, auth).data(listening);
            let mut results = state.schema.execute_stream(request);
            let mut first = true;
            while let Some(mut response) = results.next().await {
                errors::finish(&mut response, &request_id);
                // Nothing came of it: refused before it ran, or at subscribe.
                if first && response.data == async_graphql::Value::Null && response.is_err() {
                    let _ = tx.send(Outcome::Error(id, response.errors)).await;
                    return;
                }
                first = false;
                if tx.send(Outcome::Next(id.clone(), response)).await.is_err() {
                    return;
                }
            }
            let _ = tx.send(Outcome::Complete(id)).await;
        });
        (task.abort_handle(), listens)
    }

    async fn send(&mut self, message: Value) -> Result<(), actix_ws::Closed> {
        self.session.text(message.to_string()).await
    }

    async fn send_error(
        &mut self,
        id: &str,
        errors: Vec<ServerError>,
    ) -> Result<(), actix_ws::Closed> {
        self.send(json!({"id": id, "type": "error", "payload": errors}))
            .await
    }

    async fn close(self, Close(code, description): Close) {
        let _ = self
            .session
            .close(Some(CloseReason {
                code: CloseCode::Other(code),
                description: Some(description.to_owned()),
            }))
            .await;
    }
}
