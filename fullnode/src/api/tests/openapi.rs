//! The OpenAPI document at /api/v1/openapi.json: served, structurally valid
//! OpenAPI 3.1, listing exactly the routes the router serves (those of
//! docs/API.md), and describing the real requests and answers of every one.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Method, StatusCode};
use blockchain_core::params::REGTEST;
use regex::Regex;
use serde_json::{Map, Value, json};

use super::harness::{
    REMOTE, TestNode, api, get, parse_address, request, sign, transaction_json, unused_address,
    vector_key,
};
use crate::testing::TestDatabase;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Access {
    Public,
    /// Loopback callers, or others with the API token.
    Protected,
}

use Access::{Protected, Public};

/// Every route under /api/v1, as docs/API.md's table lists them. The
/// document must list exactly these operations: a route added without its
/// `#[utoipa::path]`, or an operation documented but not served, fails here.
const ROUTES: [(&str, &str, Access); 28] = [
    ("GET", "/status", Public),
    ("GET", "/health", Public),
    ("GET", "/blocks/latest", Public),
    ("GET", "/blocks/{height}", Public),
    ("GET", "/blocks/hash/{hash}", Public),
    ("GET", "/headers", Public),
    ("POST", "/transactions", Public),
    ("GET", "/transactions/pending", Public),
    ("GET", "/transactions/{txid}", Public),
    ("GET", "/transactions/{txid}/proof", Public),
    ("GET", "/wallet/{address}/balance", Public),
    ("GET", "/wallet/{address}/transactions", Public),
    ("GET", "/wallet/{address}/proof", Public),
    ("POST", "/wallet", Protected),
    ("POST", "/wallet/{address}/send", Protected),
    ("POST", "/mining/start", Protected),
    ("POST", "/mining/stop", Protected),
    ("GET", "/mining/status", Public),
    ("POST", "/mining/blocks", Protected),
    ("GET", "/network/peers", Public),
    ("GET", "/events", Public),
    ("POST", "/network/peers", Protected),
    ("GET", "/openapi.json", Public),
    ("POST", "/auth/challenge", Public),
    ("POST", "/auth/login", Public),
    ("POST", "/webhooks", Protected),
    ("GET", "/webhooks", Protected),
    ("DELETE", "/webhooks/{id}", Protected),
];

/// Methods a path item may hold operations for.
const OPERATION_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn expected_routes() -> BTreeSet<(String, String, Access)> {
    ROUTES
        .iter()
        .map(|&(method, path, access)| (method.to_owned(), path.to_owned(), access))
        .collect()
}

/// The operations of `document` and whether each needs the API token.
fn documented_routes(document: &Value) -> BTreeSet<(String, String, Access)> {
    let mut routes = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let access = match &operation["security"] {
                Value::Null => Public,
                security => {
                    assert_eq!(security, &json!([{ "api_token": [] }]), "{method} {path}");
                    Protected
                }
            };
            routes.insert((method.to_uppercase(), path.clone(), access));
        }
    }
    routes
}

/// The routes of docs/API.md's table: `METHOD /path?query` and "(protected)".
fn api_md_routes() -> BTreeSet<(String, String, Access)> {
    let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/API.md"));
    let section = text
        .split("\n## Routes\n")
        .nth(1)
        .expect("docs/API.md has a Routes section");
    let table = section.split("\n#").next().unwrap_or(section);
    table
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cell = line.split('|').nth(1).expect("a first cell");
            let route = cell.split('`').nth(1).expect("a route in backquotes");
            let (method, target) = route.split_once(' ').expect("METHOD /path");
            let path = target.split('?').next().unwrap_or(target);
            let access = if cell.contains("(protected)") {
                Protected
            } else {
                Public
            };
            (method.to_owned(), path.to_owned(), access)
        })
        .collect()
}

/// `template` with its parameters filled in with well-formed values.
fn example_uri(template: &str) -> String {
    template
        .replace("{height}", "0")
        .replace("{hash}", ZERO_HASH)
        .replace("{txid}", ZERO_HASH)
        .replace("{address}", &unused_address(1))
        .replace("{id}", "0123456789abcdef0123456789abcdef")
}

/// Breaks a valid document in one way.
type Breakage = fn(&mut Value);

pub(super) async fn openapi_document_is_served_as_valid_openapi(database: TestDatabase) {
    let node = TestNode::start(database).await;
    // A public route: a remote caller without a token gets it.
    let reply = node.send_from(REMOTE, get(&api("/openapi.json"))).await;
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let document = reply.expect(StatusCode::OK);

    let parsed: utoipa::openapi::OpenApi = serde_json::from_value(document.clone())
        .unwrap_or_else(|error| panic!("not an OpenAPI document as utoipa reads one: {error}"));
    assert_eq!(parsed.info.title, "BlockChain node API");
    assert_eq!(parsed.info.version, env!("CARGO_PKG_VERSION"));
    let description = parsed.info.description.as_deref().unwrap_or_default();
    assert!(description.contains("docs/API.md"), "{description}");
    assert!(description.contains("loopback"), "{description}");
    assert_eq!(
        document["servers"],
        json!([{ "url": "/api/v1", "description": "This node" }])
    );
    let scheme = &document["components"]["securitySchemes"]["api_token"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");

    let problems = structural_problems(&document);
    assert!(
        problems.is_empty(),
        "the OpenAPI document is not valid:\n{}",
        problems.join("\n")
    );

    // The checks catch what they look for.
    let breakages: [(&str, Breakage); 6] = [
        ("an undeclared path parameter", |document| {
            document["paths"]["/blocks/{height}"]["get"]["parameters"] = json!([]);
        }),
        ("a duplicate operationId", |document| {
            document["paths"]["/wallet"]["post"]["operationId"] = json!("get_status");
        }),
        ("a dangling reference", |document| {
            document["paths"]["/status"]["get"]["responses"]["200"]["content"]["application/json"]
                ["schema"] = json!({ "$ref": "#/components/schemas/Nothing" });
        }),
        ("a required field that is no property", |document| {
            document["components"]["schemas"]["Block"]["required"] = json!(["index", "height"]);
        }),
        ("an undeclared tag", |document| {
            document["paths"]["/status"]["get"]["tags"] = json!(["undeclared"]);
        }),
        ("an undeclared security scheme", |document| {
            document["paths"]["/wallet"]["post"]["security"] = json!([{ "cookie": [] }]);
        }),
    ];
    for (breakage, apply) in breakages {
        let mut broken = document.clone();
        apply(&mut broken);
        assert!(
            !structural_problems(&broken).is_empty(),
            "{breakage} goes unnoticed"
        );
    }
}

/// What an OpenAPI 3.1 validator checks of the parts of the structure this
/// document uses: required fields, known keys, references that resolve,
/// path parameters that match their templates, unique operation ids,
/// declared tags and security schemes, `required` naming real properties.
fn structural_problems(document: &Value) -> Vec<String> {
    const ROOT_FIELDS: [&str; 10] = [
        "openapi",
        "info",
        "jsonSchemaDialect",
        "servers",
        "paths",
        "webhooks",
        "components",
        "security",
        "tags",
        "externalDocs",
    ];
    let mut problems = Vec::new();
    let Some(root) = document.as_object() else {
        return vec!["the document is not a JSON object".into()];
    };
    for field in root.keys() {
        if !ROOT_FIELDS.contains(&field.as_str()) && !field.starts_with("x-") {
            problems.push(format!("unknown top-level field {field:?}"));
        }
    }
    if !document["openapi"]
        .as_str()
        .is_some_and(|version| version.starts_with("3.1."))
    {
        problems.push(format!("openapi is {}, not 3.1.x", document["openapi"]));
    }
    for field in ["title", "version"] {
        if !document["info"][field].is_string() {
            problems.push(format!("info.{field} is not a string"));
        }
    }
    for server in document["servers"].as_array().into_iter().flatten() {
        if !server["url"].is_string() {
            problems.push(format!("a server without a url: {server}"));
        }
    }
    let mut tags = BTreeSet::new();
    for tag in document["tags"].as_array().into_iter().flatten() {
        match tag["name"].as_str() {
            Some(name) if !tags.insert(name) => {
                problems.push(format!("tag {name} is declared twice"))
            }
            Some(_) => {}
            None => problems.push(format!("a tag without a name: {tag}")),
        }
    }
    let schemes: BTreeSet<&str> = document["components"]["securitySchemes"]
        .as_object()
        .map(|schemes| schemes.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for (name, scheme) in document["components"]["securitySchemes"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if !["apiKey", "http", "mutualTLS", "oauth2", "openIdConnect"]
            .contains(&scheme["type"].as_str().unwrap_or_default())
        {
            problems.push(format!("security scheme {name} has no valid type"));
        }
        if scheme["type"] == "http" && !scheme["scheme"].is_string() {
            problems.push(format!("http security scheme {name} has no scheme"));
        }
    }

    let Some(paths) = document["paths"].as_object() else {
        problems.push("no paths object".into());
        return problems;
    };
    let status_key = Regex::new("^(default|[1-5]([0-9]{2}|XX))$").expect("a valid regex");
    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        if !path.starts_with('/') {
            problems.push(format!("path {path:?} does not start with /"));
        }
        let templated: BTreeSet<&str> = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for (method, operation) in item.as_object().into_iter().flatten() {
            let at = format!("{} {path}", method.to_uppercase());
            if !OPERATION_METHODS.contains(&method.as_str()) {
                problems.push(format!("{path}: unexpected path item field {method:?}"));
                continue;
            }
            match operation["operationId"].as_str() {
                Some(id) if !operation_ids.insert(id) => {
                    problems.push(format!("{at}: operationId {id} is not unique"));
                }
                Some(_) => {}
                None => problems.push(format!("{at}: no operationId")),
            }
            for tag in operation["tags"].as_array().into_iter().flatten() {
                if !tag.as_str().is_some_and(|tag| tags.contains(tag)) {
                    problems.push(format!("{at}: tag {tag} is not declared"));
                }
            }
            let mut parameters = BTreeSet::new();
            let mut path_parameters = BTreeSet::new();
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let (Some(name), Some(location)) =
                    (parameter["name"].as_str(), parameter["in"].as_str())
                else {
                    problems.push(format!("{at}: a parameter without name or in: {parameter}"));
                    continue;
                };
                if !["query", "header", "path", "cookie"].contains(&location) {
                    problems.push(format!("{at}: parameter {name} is in {location:?}"));
                }
                if !parameters.insert((name, location)) {
                    problems.push(format!("{at}: parameter {name} in {location} twice"));
                }
                if location == "path" {
                    path_parameters.insert(name);
                    if parameter["required"] != true {
                        problems.push(format!("{at}: path parameter {name} is not required"));
                    }
                }
                if parameter.get("schema").is_some() == parameter.get("content").is_some() {
                    problems.push(format!(
                        "{at}: parameter {name} needs exactly one of schema and content"
                    ));
                }
            }
            if path_parameters != templated {
                problems.push(format!(
                    "{at}: path parameters {path_parameters:?}, template has {templated:?}"
                ));
            }
            if let Some(body) = operation.get("requestBody")
                && body["content"].as_object().is_none_or(Map::is_empty)
            {
                problems.push(format!("{at}: a request body without content"));
            }
            match operation["responses"].as_object() {
                Some(responses) if !responses.is_empty() => {
                    for (status, response) in responses {
                        if !status_key.is_match(status) {
                            problems.push(format!("{at}: response key {status:?}"));
                        }
                        let response = match response["$ref"].as_str() {
                            Some(reference) => pointer(document, reference),
                            None => Some(response),
                        };
                        if !response.is_some_and(|response| response["description"].is_string()) {
                            problems.push(format!("{at}: response {status} has no description"));
                        }
                    }
                }
                _ => problems.push(format!("{at}: no responses")),
            }
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for name in requirement
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k)
                {
                    if !schemes.contains(name.as_str()) {
                        problems.push(format!("{at}: security scheme {name} is not declared"));
                    }
                }
            }
        }
    }

    let mut references = Vec::new();
    collect_references(document, &mut references);
    for reference in references {
        if pointer(document, reference).is_none() {
            problems.push(format!("reference {reference} does not resolve"));
        }
    }
    for (name, schema) in document["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        required_problems(name, schema, &mut problems);
    }
    problems
}

/// The value a local reference (`#/components/…`) points to.
fn pointer<'d>(document: &'d Value, reference: &str) -> Option<&'d Value> {
    document.pointer(reference.strip_prefix('#')?)
}

fn collect_references<'d>(value: &'d Value, references: &mut Vec<&'d str>) {
    match value {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                references.push(reference);
            }
            map.values()
                .for_each(|value| collect_references(value, references));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|value| collect_references(value, references)),
        _ => {}
    }
}

/// Every name in a `required` of `schema` (or of a schema inside it) is
/// one of its `properties`.
fn required_problems(at: &str, schema: &Value, problems: &mut Vec<String>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    if let Some(required) = map.get("required").and_then(Value::as_array) {
        for name in required {
            if name
                .as_str()
                .is_none_or(|name| schema["properties"].get(name).is_none())
            {
                problems.push(format!("{at}: required {name} is not a property"));
            }
        }
    }
    for (key, value) in map {
        match value {
            Value::Object(_) => required_problems(&format!("{at}.{key}"), value, problems),
            Value::Array(items) => items.iter().enumerate().for_each(|(index, item)| {
                required_problems(&format!("{at}.{key}[{index}]"), item, problems);
            }),
            _ => {}
        }
    }
}

pub(super) async fn openapi_document_lists_exactly_the_served_routes(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let document = node.get("/openapi.json").await.expect(StatusCode::OK);

    let expected = expected_routes();
    let documented = documented_routes(&document);
    assert!(
        documented == expected,
        "documented but not in ROUTES: {:?}\nin ROUTES but not documented: {:?}",
        documented.difference(&expected).collect::<Vec<_>>(),
        expected.difference(&documented).collect::<Vec<_>>(),
    );
    let in_api_md = api_md_routes();
    assert!(
        in_api_md == expected,
        "in docs/API.md but not in ROUTES: {:?}\nin ROUTES but not in docs/API.md: {:?}",
        in_api_md.difference(&expected).collect::<Vec<_>>(),
        expected.difference(&in_api_md).collect::<Vec<_>>(),
    );

    // Each operation documents one success, and its errors as ApiError.
    for (method, path, _) in &expected {
        let operation = &document["paths"][path][method.to_lowercase()];
        let responses = operation["responses"].as_object().expect("responses");
        let successes: Vec<&String> = responses.keys().filter(|s| s.starts_with('2')).collect();
        assert_eq!(successes.len(), 1, "{method} {path}: {successes:?}");
        // The one answer that is not JSON: server-sent events.
        let content_type = if path == "/events" {
            "text/event-stream"
        } else {
            "application/json"
        };
        assert!(
            responses[successes[0]]["content"][content_type]["schema"].is_object(),
            "{method} {path}: its success has no {content_type} schema"
        );
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let response = match response["$ref"].as_str() {
                    Some(reference) => pointer(&document, reference).expect("resolves"),
                    None => response,
                };
                // The one error answer that is not an ApiError: not ready,
                // told in the health's own shape.
                let schema = if path == "/health" && status == "503" {
                    "Health"
                } else {
                    "ApiError"
                };
                assert_eq!(
                    response["content"]["application/json"]["schema"],
                    json!({ "$ref": format!("#/components/schemas/{schema}") }),
                    "{method} {path}: {status}"
                );
            }
        }
    }

    // The router serves every documented operation, protected ones only
    // with credentials ...
    for (method, path, access) in &expected {
        let uri = api(&example_uri(path));
        let reply = node
            .send_from(
                REMOTE,
                request(
                    Method::from_bytes(method.as_bytes()).expect("a method"),
                    &uri,
                    Some("application/json"),
                    Body::from("{}"),
                ),
            )
            .await;
        match access {
            Protected => {
                reply.error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
            }
            Public => {
                let route_missing = reply.status == StatusCode::METHOD_NOT_ALLOWED
                    || (reply.status == StatusCode::NOT_FOUND
                        && reply.json()["code"] == "NOT_FOUND");
                assert!(
                    !route_missing
                        && reply.status != StatusCode::UNAUTHORIZED
                        && reply.status != StatusCode::FORBIDDEN,
                    "{method} {uri} from a remote caller: {} {}",
                    reply.status,
                    reply.text()
                );
            }
        }
    }
    // ... and no other method on the documented paths (HEAD aside: axum
    // answers it for every GET route).
    let paths: BTreeSet<&str> = ROUTES.iter().map(|&(_, path, _)| path).collect();
    for path in paths {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            if ROUTES.contains(&(method.as_str(), path, Public))
                || ROUTES.contains(&(method.as_str(), path, Protected))
            {
                continue;
            }
            let uri = api(&example_uri(path));
            node.send(request(method.clone(), &uri, None, Body::empty()))
                .await
                .error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
        }
    }
}

/// Whether a JSON value is sent to the node or answered by it. Answers are
/// checked closed: every field they have is documented, and every
/// documented field is required (serde writes `Option`s as null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Answer,
}

/// Sends requests to a node, checking each request, and the answer it
/// gets, against the document.
#[derive(Debug)]
struct CheckedClient<'a> {
    node: &'a TestNode,
    document: Value,
    /// The operations a request succeeded with.
    succeeded: BTreeSet<(String, String)>,
}

impl<'a> CheckedClient<'a> {
    async fn new(node: &'a TestNode) -> Self {
        let document = node.get("/openapi.json").await.expect(StatusCode::OK);
        Self {
            node,
            document,
            succeeded: BTreeSet::new(),
        }
    }

    /// Sends a request that must be valid by the document; checks that the
    /// answer has `status`, that the document lists it, and that its body
    /// is what the document says. Returns the body.
    async fn call(
        &mut self,
        status: StatusCode,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> Value {
        self.send(status, method, uri, body, true).await
    }

    /// Like [`CheckedClient::call`] without checking the request, which is
    /// meant to be refused (its answer is checked all the same).
    async fn call_unchecked(
        &mut self,
        status: StatusCode,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> Value {
        self.send(status, method, uri, body, false).await
    }

    async fn send(
        &mut self,
        status: StatusCode,
        method: Method,
        uri: &str,
        body: Option<Value>,
        check_request: bool,
    ) -> Value {
        let template = self.template(&method, uri);
        let at = format!("{method} {uri}");
        let operation = &self.document["paths"][&template][method.as_str().to_lowercase()];
        if check_request {
            let mut errors = self.parameter_errors(operation, &template, uri);
            match &body {
                Some(body) => {
                    let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
                    assert!(schema.is_object(), "{at}: no request body documented");
                    self.check(schema, body, "body", Direction::Request, &mut errors);
                }
                None => assert_ne!(
                    operation["requestBody"]["required"], true,
                    "{at}: the document requires a body"
                ),
            }
            assert!(
                errors.is_empty(),
                "{at}: the request does not match the document:\n{}",
                errors.join("\n")
            );
        }

        let reply = self
            .node
            .send(request(
                method.clone(),
                &api(uri),
                body.as_ref().map(|_| "application/json"),
                body.as_ref()
                    .map_or_else(Body::empty, |body| Body::from(body.to_string())),
            ))
            .await;
        assert_eq!(reply.status, status, "{at}: {}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{at}"
        );
        let response = &operation["responses"][status.as_str()];
        assert!(
            response.is_object(),
            "{at}: status {status} is not documented"
        );
        let response = self.resolve(response);
        let schema = &response["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{at}: answer {status} has no documented JSON schema"
        );
        let answer = reply.json();
        let mut errors = Vec::new();
        self.check(schema, &answer, "answer", Direction::Answer, &mut errors);
        assert!(
            errors.is_empty(),
            "{at}: the answer does not match the document:\n{}\n{answer:#}",
            errors.join("\n")
        );
        if status.is_success() {
            self.succeeded.insert((method.to_string(), template));
        }
        answer
    }

    /// The documented path `uri` falls under: the one with `method` whose
    /// segments match, literal ones preferred (as the router does).
    fn template(&self, method: &Method, uri: &str) -> String {
        let path = uri.split('?').next().unwrap_or(uri);
        let segments: Vec<&str> = path.split('/').collect();
        let mut best: Option<(usize, &String)> = None;
        for (template, item) in self.document["paths"].as_object().expect("paths") {
            if item.get(method.as_str().to_lowercase()).is_none() {
                continue;
            }
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                continue;
            }
            let mut literal = 0;
            let matches = parts.iter().zip(&segments).all(|(part, segment)| {
                if part.starts_with('{') {
                    true
                } else {
                    literal += 1;
                    part == segment
                }
            });
            if matches && best.is_none_or(|(most, _)| literal > most) {
                best = Some((literal, template));
            }
        }
        best.unwrap_or_else(|| panic!("{method} {uri} is not documented"))
            .1
            .clone()
    }

    /// The path and query parameters of `uri` checked against the operation's.
    fn parameter_errors(&self, operation: &Value, template: &str, uri: &str) -> Vec<String> {
        let mut errors = Vec::new();
        let parameters: BTreeMap<(&str, &str), &Value> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|parameter| {
                let name = parameter["name"].as_str().expect("a name");
                let location = parameter["in"].as_str().expect("an in");
                ((name, location), parameter)
            })
            .collect();
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let mut given = Vec::new();
        for (part, segment) in template.split('/').zip(path.split('/')) {
            if let Some(name) = part
                .strip_prefix('{')
                .and_then(|part| part.strip_suffix('}'))
            {
                given.push((name, "path", segment));
            }
        }
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            given.push((name, "query", value));
        }
        for (name, location, text) in given {
            let Some(parameter) = parameters.get(&(name, location)) else {
                errors.push(format!("{location} parameter {name} is not documented"));
                continue;
            };
            let schema = self.resolve(&parameter["schema"]);
            let value = if json_types(schema).contains(&"integer") {
                text.parse::<i128>()
                    .ok()
                    .and_then(|number| serde_json::to_value(number).ok())
                    .unwrap_or_else(|| Value::String(text.to_owned()))
            } else {
                Value::String(text.to_owned())
            };
            self.check(schema, &value, name, Direction::Request, &mut errors);
        }
        errors
    }

    fn resolve<'d>(&'d self, mut schema: &'d Value) -> &'d Value {
        while let Some(reference) = schema["$ref"].as_str() {
            schema = pointer(&self.document, reference)
                .unwrap_or_else(|| panic!("{reference} does not resolve"));
        }
        schema
    }

    /// Checks `value` against `schema` with a JSON Schema validator, on
    /// [`CheckedClient::standalone`]'s form of the schema.
    fn check(
        &self,
        schema: &Value,
        value: &Value,
        at: &str,
        direction: Direction,
        errors: &mut Vec<String>,
    ) {
        let schema = self.standalone(schema, at, direction, errors);
        let validator = jsonschema::validator_for(&schema).unwrap_or_else(|error| {
            panic!("{at}: the schema does not compile ({error}): {schema}")
        });
        for error in validator.iter_errors(value) {
            errors.push(format!("{at}{}: {error}", error.instance_path()));
        }
    }

    /// `schema` as a JSON Schema 2020-12 document of its own: references
    /// into this document inlined, `format: int32`/`int64` as bounds, the
    /// parts of an `allOf` (a flattened struct) merged into one object
    /// schema. Objects sent to the node are closed when the document says
    /// so (`additionalProperties: false`); answers always are, and every
    /// field the node always sends (serde writes `Option`s as null) must be
    /// documented as required: a property that is not is reported in `errors`.
    fn standalone(
        &self,
        schema: &Value,
        at: &str,
        direction: Direction,
        errors: &mut Vec<String>,
    ) -> Value {
        let schema = self.resolve(schema);
        let Some(map) = schema.as_object() else {
            return schema.clone();
        };
        if let Some(alternatives) = map.get("oneOf").and_then(Value::as_array) {
            let alternatives = alternatives
                .iter()
                .map(|alternative| self.standalone(alternative, at, direction, errors))
                .collect();
            return json!({ "oneOf": Value::Array(alternatives) });
        }
        let mut standalone = Map::new();
        for (key, value) in map {
            let value = match key.as_str() {
                "items" | "not" => self.standalone(value, &format!("{at}[]"), direction, errors),
                "additionalProperties" if value.is_object() => {
                    self.standalone(value, &format!("{at}.*"), direction, errors)
                }
                "anyOf" | "prefixItems" => Value::Array(
                    value
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|part| self.standalone(part, at, direction, errors))
                        .collect(),
                ),
                "allOf" | "properties" | "required" | "$ref" => continue,
                _ => value.clone(),
            };
            standalone.insert(key.clone(), value);
        }
        if let Some(bounds) = match map.get("format").and_then(Value::as_str) {
            Some("int32") => Some((i128::from(i32::MIN), i128::from(i32::MAX))),
            Some("int64") => Some((i128::from(i64::MIN), i128::from(i64::MAX))),
            _ => None,
        } {
            let tighter = |key: &str, bound: i128, keep: fn(i128, i128) -> i128| {
                schema_number(schema, key).map_or(bound, |documented| keep(documented, bound))
            };
            standalone.insert(
                "minimum".into(),
                json!(tighter("minimum", bounds.0, i128::max)),
            );
            standalone.insert(
                "maximum".into(),
                json!(tighter("maximum", bounds.1, i128::min)),
            );
        }

        let mut shape = ObjectShape::default();
        self.object_shape(schema, &mut shape);
        if !shape.described {
            return Value::Object(standalone); // A free-form object (this document's own schema).
        }
        let mut properties = Map::new();
        for (name, property) in &shape.properties {
            let property = self.standalone(property, &format!("{at}.{name}"), direction, errors);
            properties.insert((*name).to_owned(), property);
        }
        standalone.insert("properties".into(), Value::Object(properties));
        standalone.insert("required".into(), json!(shape.required));
        if shape.closed || direction == Direction::Answer {
            standalone.insert("additionalProperties".into(), Value::Bool(false));
        }
        if direction == Direction::Answer {
            for name in shape.properties.keys() {
                if !shape.required.contains(name) {
                    errors.push(format!(
                        "{at}: {name} is always sent but documented as optional"
                    ));
                }
            }
        }
        Value::Object(standalone)
    }

    /// The properties of an object schema, through `allOf` (a flattened struct).
    fn object_shape<'d>(&'d self, schema: &'d Value, shape: &mut ObjectShape<'d>) {
        let schema = self.resolve(schema);
        for part in schema["allOf"].as_array().into_iter().flatten() {
            self.object_shape(part, shape);
        }
        if let Some(properties) = schema["properties"].as_object() {
            shape.described = true;
            for (name, property) in properties {
                shape.properties.insert(name, property);
            }
        }
        for name in schema["required"].as_array().into_iter().flatten() {
            shape
                .required
                .insert(name.as_str().expect("required names are strings"));
        }
        shape.closed |= schema["additionalProperties"] == false;
    }

    /// Opens GET /events, checks that the answer is the event stream the
    /// document describes, and closes it.
    async fn open_event_stream(&mut self) {
        let reply = self.node.get("/events").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(reply.header("content-type"), Some("text/event-stream"));
        let operation = &self.document["paths"]["/events"]["get"];
        assert!(
            operation["responses"]["200"]["content"]["text/event-stream"].is_object(),
            "GET /events: the event stream is not documented"
        );
        self.succeeded
            .insert(("GET".to_owned(), "/events".to_owned()));
    }

    /// Checks that every operation of [`ROUTES`] succeeded at least once.
    fn assert_every_operation_succeeded(&self) {
        let missing: Vec<_> = ROUTES
            .iter()
            .filter(|&&(method, path, _)| {
                !self
                    .succeeded
                    .contains(&(method.to_owned(), path.to_owned()))
            })
            .collect();
        assert!(missing.is_empty(), "never checked a success of {missing:?}");
    }
}

#[derive(Debug, Default)]
struct ObjectShape<'d> {
    /// Whether the schema lists properties at all.
    described: bool,
    properties: BTreeMap<&'d str, &'d Value>,
    required: BTreeSet<&'d str>,
    /// `additionalProperties: false`.
    closed: bool,
}

/// The JSON types a schema allows (`type` is a name or a list of names).
fn json_types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(name) => vec![name.as_str()],
        Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

pub(super) async fn documented_schemas_describe_real_answers(database: TestDatabase) {
    let node = TestNode::with_config(database, |config| {
        config.admin_addresses = vec![parse_address(&vector_key(0).address)];
    })
    .await;
    let mut client = CheckedClient::new(&node).await;
    let (alice, bob) = (vector_key(0), vector_key(1));

    client
        .call(StatusCode::OK, Method::GET, "/openapi.json", None)
        .await;
    // A fresh node: nulls where a later answer has values.
    let status = client
        .call(StatusCode::OK, Method::GET, "/status", None)
        .await;
    assert!(status["peer_id"].is_null(), "{status}");
    // The check catches what it looks for.
    let documented =
        client.resolve(&client.document["paths"]["/status"]["get"]["responses"]["200"]);
    let schema = documented["content"]["application/json"]["schema"].clone();
    let mut surplus = status.clone();
    surplus["undocumented"] = json!(1);
    let mut missing = status.clone();
    missing.as_object_mut().expect("an object").remove("height");
    let mut mistyped = status.clone();
    mistyped["height"] = json!("tall");
    for (breakage, broken) in [
        ("an undocumented field", surplus),
        ("a missing field", missing),
        ("a field of the wrong type", mistyped),
    ] {
        let mut errors = Vec::new();
        client.check(&schema, &broken, "answer", Direction::Answer, &mut errors);
        assert!(!errors.is_empty(), "{breakage} goes unnoticed");
    }
    let mining = client
        .call(StatusCode::OK, Method::GET, "/mining/status", None)
        .await;
    assert!(mining["miner_address"].is_null(), "{mining}");

    // Blocks and headers.
    let mined = client
        .call(
            StatusCode::CREATED,
            Method::POST,
            "/mining/blocks",
            Some(json!({ "miner_address": alice.address, "count": 2 })),
        )
        .await;
    let hash = mined["blocks"][1]["hash"]
        .as_str()
        .expect("a hash")
        .to_owned();
    client
        .call(StatusCode::OK, Method::GET, "/status", None)
        .await;
    client
        .call(StatusCode::OK, Method::GET, "/health", None)
        .await;
    client
        .call(StatusCode::OK, Method::GET, "/blocks/latest?limit=2", None)
        .await;
    client
        .call(StatusCode::OK, Method::GET, "/blocks/2", None)
        .await;
    client
        .call(
            StatusCode::OK,
            Method::GET,
            &format!("/blocks/hash/{hash}"),
            None,
        )
        .await;
    client
        .call(StatusCode::OK, Method::GET, "/headers?from=1&count=2", None)
        .await;
    client
        .call(StatusCode::NOT_FOUND, Method::GET, "/blocks/99", None)
        .await;
    client
        .call_unchecked(
            StatusCode::BAD_REQUEST,
            Method::GET,
            "/blocks/hash/not-a-hash",
            None,
        )
        .await;
    client
        .call_unchecked(
            StatusCode::BAD_REQUEST,
            Method::GET,
            "/headers?count=2001",
            None,
        )
        .await;

    // A transaction from submission to proof.
    let transaction = sign(&alice, &bob.address, 150_000_000, 1_000, 0);
    let txid = transaction.txid().to_string();
    let submitted = client
        .call(
            StatusCode::ACCEPTED,
            Method::POST,
            "/transactions",
            Some(transaction_json(&REGTEST, &transaction)),
        )
        .await;
    assert_eq!(submitted, json!({ "txid": txid, "status": "pending" }));
    client
        .call(
            StatusCode::CONFLICT,
            Method::POST,
            "/transactions",
            Some(transaction_json(&REGTEST, &transaction)),
        )
        .await;
    client
        .call_unchecked(
            StatusCode::BAD_REQUEST,
            Method::POST,
            "/transactions",
            Some(json!({})),
        )
        .await;
    client
        .call(
            StatusCode::OK,
            Method::GET,
            "/transactions/pending?limit=10&offset=0",
            None,
        )
        .await;
    let pending = client
        .call(
            StatusCode::OK,
            Method::GET,
            &format!("/transactions/{txid}"),
            None,
        )
        .await;
    assert_eq!(pending["status"], "pending");
    assert!(pending["block_hash"].is_null(), "{pending}");
    client
        .call(
            StatusCode::NOT_FOUND,
            Method::GET,
            &format!("/transactions/{txid}/proof"),
            None,
        )
        .await;
    client
        .call(
            StatusCode::CREATED,
            Method::POST,
            "/mining/blocks",
            Some(json!({ "miner_address": alice.address })),
        )
        .await;
    let confirmed = client
        .call(
            StatusCode::OK,
            Method::GET,
            &format!("/transactions/{txid}"),
            None,
        )
        .await;
    assert_eq!(confirmed["status"], "confirmed");
    client
        .call(
            StatusCode::OK,
            Method::GET,
            &format!("/transactions/{txid}/proof"),
            None,
        )
        .await;

    // Addresses.
    let alice_address = &alice.address;
    client
        .call(
            StatusCode::OK,
            Method::GET,
            &format!("/wallet/{alice_address}/balance"),
            None,
        )
        .await;
    client
        .call(
            StatusCode::OK,
            Method::GET,
            &format!("/wallet/{alice_address}/transactions?limit=5&offset=0"),
            None,
        )
        .await;
    client
        .call(
            StatusCode::OK,
            Method::GET,
            &format!("/wallet/{alice_address}/proof"),
            None,
        )
        .await;
    let absent = client
        .call(
            StatusCode::OK,
            Method::GET,
            &format!("/wallet/{}/proof", unused_address(7)),
            None,
        )
        .await;
    assert!(absent["account"].is_null(), "{absent}");
    client
        .call_unchecked(
            StatusCode::BAD_REQUEST,
            Method::GET,
            "/wallet/not-an-address/balance",
            None,
        )
        .await;

    // A node-side wallet.
    const PASSWORD: &str = "correct horse battery staple";
    let created = client
        .call(
            StatusCode::CREATED,
            Method::POST,
            "/wallet",
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    let wallet = created["address"].as_str().expect("an address").to_owned();
    let send = format!("/wallet/{wallet}/send");
    let payment =
        json!({ "password": PASSWORD, "recipient": bob.address, "amount": 1_000, "fee": 10 });
    client
        .call(
            StatusCode::UNPROCESSABLE_ENTITY,
            Method::POST,
            &send,
            Some(payment.clone()),
        )
        .await;
    client
        .call(
            StatusCode::CREATED,
            Method::POST,
            "/mining/blocks",
            Some(json!({ "miner_address": wallet, "count": 1 })),
        )
        .await;
    client
        .call(
            StatusCode::UNAUTHORIZED,
            Method::POST,
            &send,
            Some(
                json!({ "password": "wrong password", "recipient": bob.address, "amount": 1_000 }),
            ),
        )
        .await;
    client
        .call(StatusCode::ACCEPTED, Method::POST, &send, Some(payment))
        .await;
    client
        .call(
            StatusCode::NOT_FOUND,
            Method::POST,
            &format!("/wallet/{}/send", unused_address(8)),
            Some(json!({ "password": PASSWORD, "recipient": bob.address, "amount": 1 })),
        )
        .await;

    // Mining on and off; `null` is a valid empty body.
    let started = client
        .call(
            StatusCode::OK,
            Method::POST,
            "/mining/start",
            Some(json!({ "miner_address": alice.address })),
        )
        .await;
    assert_eq!(started["is_mining"], true);
    client
        .call(StatusCode::OK, Method::GET, "/mining/status", None)
        .await;
    client
        .call(StatusCode::OK, Method::POST, "/mining/stop", None)
        .await;
    client
        .call(
            StatusCode::OK,
            Method::POST,
            "/mining/start",
            Some(Value::Null),
        )
        .await;
    let stopped = client
        .call(StatusCode::OK, Method::POST, "/mining/stop", None)
        .await;
    assert_eq!(stopped["is_mining"], false);
    client
        .call_unchecked(
            StatusCode::BAD_REQUEST,
            Method::POST,
            "/mining/blocks",
            Some(json!({ "count": 0 })),
        )
        .await;

    // Peers.
    client
        .call(
            StatusCode::ACCEPTED,
            Method::POST,
            "/network/peers",
            Some(json!({
                "multiaddr": "/ip4/10.1.2.3/tcp/4001/p2p/12D3KooWGzRBn6Dbd4mmyCfYuwxPjP3Vk3nqwm4PxtGDrfBZnvrz"
            })),
        )
        .await;
    let peers = client
        .call(StatusCode::OK, Method::GET, "/network/peers", None)
        .await;
    assert_eq!(peers["count"], 1, "{peers}");
    client
        .call_unchecked(
            StatusCode::BAD_REQUEST,
            Method::POST,
            "/network/peers",
            Some(json!({ "multiaddr": "/ip4/10.1.2.3/tcp/4001" })),
        )
        .await;

    // Login.
    let challenge = client
        .call(StatusCode::OK, Method::POST, "/auth/challenge", None)
        .await;
    let text = challenge["challenge"].as_str().expect("a challenge");
    let login = json!({
        "challenge": text,
        "public_key": alice.spki,
        "signature": hex::encode(
            alice
                .key
                .sign_pss(&mut rand::rngs::SysRng, text.as_bytes())
                .expect("signs")
        ),
    });
    let token = client
        .call(
            StatusCode::OK,
            Method::POST,
            "/auth/login",
            Some(login.clone()),
        )
        .await;
    assert_eq!(token["address"], alice.address.as_str());
    client
        .call(
            StatusCode::UNAUTHORIZED,
            Method::POST,
            "/auth/login",
            Some(login),
        )
        .await;

    // Webhooks.
    let webhook = client
        .call(
            StatusCode::CREATED,
            Method::POST,
            "/webhooks",
            Some(json!({
                "url": "http://127.0.0.1:9/hooks",
                "events": ["new_block", "reorg"],
                "secret": "a secret of 16+ bytes",
            })),
        )
        .await;
    let id = webhook["id"].as_str().expect("an id").to_owned();
    client
        .call(
            StatusCode::FORBIDDEN,
            Method::POST,
            "/webhooks",
            Some(json!({
                "url": "http://10.1.2.3/hooks",
                "events": ["new_block"],
                "secret": "a secret of 16+ bytes",
            })),
        )
        .await;
    let listed = client
        .call(StatusCode::OK, Method::GET, "/webhooks", None)
        .await;
    assert_eq!(listed["count"], 1, "{listed}");
    client
        .call(
            StatusCode::OK,
            Method::DELETE,
            &format!("/webhooks/{id}"),
            None,
        )
        .await;
    client
        .call(
            StatusCode::NOT_FOUND,
            Method::DELETE,
            &format!("/webhooks/{id}"),
            None,
        )
        .await;

    // Events.
    client.open_event_stream().await;

    client.assert_every_operation_succeeded();
}

/// The integer bounds of one documented parameter or body field.
#[derive(Debug)]
struct Bound {
    method: Method,
    path: String,
    /// `query`, `path` or `body`.
    place: String,
    name: String,
    minimum: i128,
    maximum: i128,
}

/// A schema's integer bound, written as an integer or a float.
fn schema_number(schema: &Value, key: &str) -> Option<i128> {
    let number = &schema[key];
    number
        .as_i64()
        .map(i128::from)
        .or_else(|| number.as_u64().map(i128::from))
        .or_else(|| number.as_f64().map(|float| float as i128))
}

/// Every integer parameter and bounded request-body field of `document`,
/// with its bounds; a parameter without both bounds is a problem (a fuzzer,
/// or a client, could not know which values the node takes).
fn documented_bounds(document: &Value) -> (Vec<Bound>, Vec<String>) {
    let mut bounds = Vec::new();
    let mut problems = Vec::new();
    let mut add = |method: &str, path: &str, place: &str, name: &str, schema: &Value| {
        if !json_types(schema).contains(&"integer") {
            return;
        }
        match (
            schema_number(schema, "minimum"),
            schema_number(schema, "maximum"),
        ) {
            (Some(minimum), Some(maximum)) => bounds.push(Bound {
                method: method.to_uppercase().parse().expect("a method"),
                path: path.to_owned(),
                place: place.to_owned(),
                name: name.to_owned(),
                minimum,
                maximum,
            }),
            // Body fields without a bound are consensus numbers (amounts,
            // fees, nonces: any u64, checked against the chain, not a range).
            _ if place == "body" => {}
            _ => problems.push(format!(
                "{method} {path}: {place} {name} has no minimum and maximum"
            )),
        }
    };
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let place = parameter["in"].as_str().expect("in");
                let name = parameter["name"].as_str().expect("a name");
                add(method, path, place, name, &parameter["schema"]);
            }
            let body = &operation["requestBody"]["content"]["application/json"]["schema"];
            let body = match body["$ref"].as_str() {
                Some(reference) => pointer(document, reference).expect("resolves"),
                None => body,
            };
            for (name, schema) in body["properties"].as_object().into_iter().flatten() {
                add(method, path, "body", name, schema);
            }
        }
    }
    (bounds, problems)
}

/// The request that sends `value` as `bound`'s parameter or field, every
/// other part of the request well formed.
fn request_with(bound: &Bound, value: i128) -> axum::http::Request<Body> {
    let path = match bound.place.as_str() {
        "path" => bound
            .path
            .replace(&format!("{{{}}}", bound.name), &value.to_string()),
        _ => bound.path.clone(),
    };
    let mut uri = api(&example_uri(&path));
    if bound.place == "query" {
        uri.push_str(&format!("?{}={value}", bound.name));
    }
    match bound.place.as_str() {
        "body" => {
            let body = json!({ &bound.name: value });
            request(
                bound.method.clone(),
                &uri,
                Some("application/json"),
                Body::from(body.to_string()),
            )
        }
        _ => request(bound.method.clone(), &uri, None, Body::empty()),
    }
}

/// What an API fuzzer checks first: the document's integer bounds are the
/// node's. Each documented bound plus one (and minimum minus one) is
/// refused with 400 naming the field; each bound itself is not refused.
pub(super) async fn documented_bounds_are_the_bounds_the_node_enforces(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let document = node.get("/openapi.json").await.expect(StatusCode::OK);
    let (bounds, problems) = documented_bounds(&document);
    assert!(problems.is_empty(), "{problems:#?}");
    let places: BTreeSet<&str> = bounds.iter().map(|bound| bound.place.as_str()).collect();
    assert_eq!(
        places,
        BTreeSet::from(["body", "path", "query"]),
        "{bounds:#?}"
    );
    for bound in &bounds {
        for outside in [bound.maximum + 1, bound.minimum - 1] {
            let reply = node.send(request_with(bound, outside)).await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{bound:?} = {outside}: {}",
                reply.text()
            );
            assert_eq!(
                reply.json()["details"]["field"],
                bound.name.as_str(),
                "{bound:?} = {outside}: {}",
                reply.text()
            );
        }
        // A body at its bound would do real work (mine 1000 blocks): the
        // bounds of bodies are checked from outside only.
        if bound.place == "body" {
            continue;
        }
        for inside in [bound.minimum, bound.maximum] {
            let reply = node.send(request_with(bound, inside)).await;
            assert!(
                reply.status.is_success() || reply.status == StatusCode::NOT_FOUND,
                "{bound:?} = {inside}: {} {}",
                reply.status,
                reply.text()
            );
        }
    }
}
