//! The REST client of `blockchain-cli`: JSON in and out, the node's error
//! answers as [`ClientError::Api`], and the bearer token of the protected
//! routes read from `<data dir>/api.cookie` when it is needed.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

/// Longest a request may take (mining many blocks takes longer: its own limit).
const TIMEOUT: Duration = Duration::from_secs(60);
/// Longest `POST /mining/blocks` may take (the node's own limit).
const MINING_TIMEOUT: Duration = Duration::from_secs(600);

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No connection, a timeout, a broken answer.
    #[error("cannot reach the node at {node}: {reason}")]
    Unreachable {
        /// The node's URL.
        node: String,
        /// What went wrong.
        reason: String,
    },
    /// The node answered with an error.
    #[error("the node answered {status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The API's error code, e.g. `INSUFFICIENT_FUNDS`.
        code: String,
        /// Its message.
        message: String,
        /// The whole answer (`/health` says why it is not ready in it).
        body: Value,
    },
    /// A protected route, and no token: no cookie file and no `--api-token`.
    #[error(
        "this command needs the node's API cookie, and {path} cannot be read ({reason}); \
         pass --data-dir (the node's), or --api-token"
    )]
    NoCookie {
        /// Where the cookie was looked for.
        path: PathBuf,
        /// Why it could not be read.
        reason: String,
    },
}

/// A node's REST API.
#[derive(Debug)]
pub struct NodeClient {
    base: String,
    agent: ureq::Agent,
    /// `--api-token`, else read from `cookie` when first needed.
    token: Option<String>,
    cookie: PathBuf,
}

impl NodeClient {
    /// A client of the node at `node` (e.g. `http://127.0.0.1:8080`), whose
    /// cookie is at `cookie` unless `token` is given.
    pub fn new(node: &str, token: Option<String>, cookie: PathBuf) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .build()
            .into();
        Self {
            base: format!("{}/api/v1", node.trim_end_matches('/')),
            agent,
            token,
            cookie,
        }
    }

    /// GET `path` (under /api/v1).
    pub fn get(&self, path: &str) -> Result<Value, ClientError> {
        let request = self.agent.get(format!("{}{path}", self.base));
        self.answer(request.call())
    }

    /// GET `path` with the token of the protected routes.
    pub fn get_protected(&self, path: &str) -> Result<Value, ClientError> {
        let request = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token()?));
        self.answer(request.call())
    }

    /// POST `body` as JSON to `path`, with the token when `protected`.
    pub fn post(&self, path: &str, body: &Value, protected: bool) -> Result<Value, ClientError> {
        let mut request = self
            .agent
            .post(format!("{}{path}", self.base))
            .content_type("application/json");
        if protected {
            request = request.header("Authorization", &format!("Bearer {}", self.token()?));
        }
        if path == "/mining/blocks" {
            request = request
                .config()
                .timeout_global(Some(MINING_TIMEOUT))
                .build();
        }
        self.answer(request.send(body.to_string()))
    }

    /// The bearer token: `--api-token`, else the cookie file's line.
    fn token(&self) -> Result<String, ClientError> {
        if let Some(token) = &self.token {
            return Ok(token.clone());
        }
        std::fs::read_to_string(&self.cookie)
            .map(|text| text.trim().to_owned())
            .map_err(|error| ClientError::NoCookie {
                path: self.cookie.clone(),
                reason: error.to_string(),
            })
    }

    fn answer(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, ClientError> {
        let unreachable = |reason: String| ClientError::Unreachable {
            node: self.base.trim_end_matches("/api/v1").to_owned(),
            reason,
        };
        let mut response = result.map_err(|error| unreachable(error.to_string()))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|error| unreachable(error.to_string()))?;
        let json: Value = serde_json::from_str(&text)
            .map_err(|_| unreachable(format!("answer {status} is not JSON: {text:.200}")))?;
        if (200..300).contains(&status) {
            return Ok(json);
        }
        Err(ClientError::Api {
            status,
            code: json["code"].as_str().unwrap_or("UNKNOWN").to_owned(),
            message: json["message"].as_str().unwrap_or(&text).to_owned(),
            body: json,
        })
    }
}
