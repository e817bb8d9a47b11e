-- Storage of the full node (PostgreSQL). u64 values are stored bit-cast to
-- BIGINT; hashes, addresses and encodings are BYTEA.

-- Every block that passed context-free checks, on the best chain or not.
CREATE TABLE blocks (
    hash       BYTEA   NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    -- Insertion order: breaks ties between equal-work chains (first seen wins).
    seq        BIGINT  NOT NULL,
    height     BIGINT  NOT NULL,
    prev_hash  BYTEA   NOT NULL CHECK (length(prev_hash) = 32),
    header     BYTEA   NOT NULL CHECK (length(header) = 128),
    raw        BYTEA   NOT NULL,
    -- Cumulative work, 32 bytes big-endian.
    chain_work BYTEA   NOT NULL CHECK (length(chain_work) = 32),
    on_main    BOOLEAN NOT NULL DEFAULT FALSE,
    invalid    BOOLEAN NOT NULL DEFAULT FALSE,
    -- Undo record, written when the block joins the best chain.
    undo       BYTEA
);
CREATE INDEX blocks_height ON blocks (height, seq);
CREATE INDEX blocks_main_height ON blocks (on_main, height);
CREATE INDEX blocks_seq ON blocks (seq);

-- Transactions confirmed on the best chain only.
CREATE TABLE transactions (
    txid       BYTEA   NOT NULL PRIMARY KEY CHECK (length(txid) = 32),
    block_hash BYTEA   NOT NULL REFERENCES blocks (hash),
    height     BIGINT  NOT NULL,
    position   BIGINT  NOT NULL,
    raw        BYTEA   NOT NULL,
    -- NULL for a coinbase.
    sender     BYTEA   CHECK (sender IS NULL OR length(sender) = 20),
    recipient  BYTEA   NOT NULL CHECK (length(recipient) = 20),
    amount     BIGINT  NOT NULL,
    fee        BIGINT  NOT NULL,
    nonce      BIGINT  NOT NULL,
    time_ms    BIGINT  NOT NULL
);
CREATE INDEX transactions_block ON transactions (block_hash);
CREATE INDEX transactions_sender ON transactions (sender, height);
CREATE INDEX transactions_recipient ON transactions (recipient, height);

-- Account state at the tip.
CREATE TABLE accounts (
    address BYTEA   NOT NULL PRIMARY KEY CHECK (length(address) = 20),
    balance BIGINT  NOT NULL,
    nonce   BIGINT  NOT NULL
);

-- Accepted transactions not yet mined.
CREATE TABLE pending_transactions (
    txid        BYTEA   NOT NULL PRIMARY KEY CHECK (length(txid) = 32),
    raw         BYTEA   NOT NULL,
    fee         BIGINT  NOT NULL,
    sender      BYTEA   CHECK (sender IS NULL OR length(sender) = 20),
    nonce       BIGINT  NOT NULL,
    accepted_ms BIGINT  NOT NULL
);

-- Node-side wallets: encrypted keystores.
CREATE TABLE wallets (
    address    BYTEA   NOT NULL PRIMARY KEY CHECK (length(address) = 20),
    keystore   TEXT    NOT NULL,
    created_ms BIGINT  NOT NULL
);

-- Known peers.
CREATE TABLE peers (
    peer_id      TEXT    NOT NULL PRIMARY KEY,
    -- JSON array of multiaddr strings.
    addrs        TEXT    NOT NULL,
    last_seen_ms BIGINT  NOT NULL
);
CREATE INDEX peers_last_seen ON peers (last_seen_ms);

-- Single values, such as the best tip ('tip' → 32-byte block hash).
CREATE TABLE chain_meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value BYTEA NOT NULL
);
