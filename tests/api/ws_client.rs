//! A graphql-transport-ws client for the tests, over tokio-tungstenite:
//! `let mut s = Socket::open(&app.base).await; s.init(&ada).await;`.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::{
    tungstenite::{client::IntoClientRequest, http::HeaderValue, Message},
    MaybeTlsStream, WebSocketStream,
};

use crate::helpers::User;

pub struct Socket {
    ws: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

/// What the server did next.
#[derive(Debug)]
pub enum Heard {
    Message(Value),
    Closed(u16),
}

impl Socket {
    /// A socket to `base`'s `/graphql`, speaking graphql-transport-ws.
    pub async fn open(base: &str) -> Self {
        Self::open_from(base, None).await.expect("the socket opens")
    }

    /// As [`Socket::open`], from a page of `origin`; the HTTP status if
    /// the upgrade is refused.
    pub async fn open_from(base: &str, origin: Option<&str>) -> Result<Self, u16> {
        let url = format!("{}/graphql", base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        if let Some(o) = origin {
            request
                .headers_mut()
                .insert("Origin", HeaderValue::from_str(o).unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((ws, response)) => {
                assert_eq!(
                    response.headers()["sec-websocket-protocol"],
                    "graphql-transport-ws"
                );
                Ok(Self { ws })
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
            Err(e) => panic!("the upgrade failed: {e}"),
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.ws
            .send(Message::text(message.to_string()))
            .await
            .expect("the socket takes a message");
    }

    /// The next message or close within `within`; `None` if nothing came.
    pub async fn hear_within(&mut self, within: Duration) -> Option<Heard> {
        loop {
            let next = tokio::time::timeout(within, self.ws.next()).await.ok()?;
            match next {
                Some(Ok(Message::Text(t))) => {
                    return Some(Heard::Message(serde_json::from_str(&t).unwrap()))
                }
                Some(Ok(Message::Close(frame))) => {
                    return Some(Heard::Closed(frame.map_or(1005, |f| f.code.into())))
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Some(Heard::Closed(1006)),
            }
        }
    }

    /// The next message, which must come within 5 s.
    pub async fn hear(&mut self) -> Value {
        match self.hear_within(Duration::from_secs(5)).await {
            Some(Heard::Message(m)) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// The close code the server ends the socket with, within `within`.
    pub async fn closed_within(&mut self, within: Duration) -> u16 {
        match self.hear_within(within).await {
            Some(Heard::Closed(code)) => code,
            other => panic!("expected the socket to close, got {other:?}"),
        }
    }

    /// `connection_init` with `user`'s token, acknowledged.
    pub async fn init(&mut self, user: &User) {
        self.send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {}", user.token)}}))
            .await;
        assert_eq!(self.hear().await["type"], "connection_ack");
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}}))
            .await;
    }

    /// The payload of the next `next` message, which must be for `id`.
    pub async fn next_of(&mut self, id: &str) -> Value {
        let m = self.hear().await;
        assert_eq!(m["type"], "next", "{m}");
        assert_eq!(m["id"], id, "{m}");
        m["payload"].clone()
    }
}

/// Every invitation event the socket's viewer hears, with the invitation.
pub const EVENTS: &str = "subscription($ws: ID) {
  invitationEvents(workspaceId: $ws) {
    id at kind detail actor { handle role }
    invitation { id email status creator { handle } workspace { name } }
  }
}";
