-- Storage of the full node (SQLite). u64 values are stored bit-cast to the
-- 64-bit signed INTEGER; hashes, addresses and encodings are BLOBs.
-- Flags are INTEGER 0/1: sqlx's Any driver cannot read SQLite's BOOLEAN type.

-- Every block that passed context-free checks, on the best chain or not.
CREATE TABLE blocks (
    hash       BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    -- Insertion order: breaks ties between equal-work chains (first seen wins).
    seq        INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    prev_hash  BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    header     BLOB    NOT NULL CHECK (length(header) = 128),
    raw        BLOB    NOT NULL,
    -- Cumulative work, 32 bytes big-endian.
    chain_work BLOB    NOT NULL CHECK (length(chain_work) = 32),
    on_main    INTEGER NOT NULL DEFAULT 0 CHECK (on_main IN (0, 1)),
    invalid    INTEGER NOT NULL DEFAULT 0 CHECK (invalid IN (0, 1)),
    -- Undo record, written when the block joins the best chain.
    undo       BLOB
);
CREATE INDEX blocks_height ON blocks (height, seq);
CREATE INDEX blocks_main_height ON blocks (on_main, height);
CREATE INDEX blocks_seq ON blocks (seq);

-- Transactions confirmed on the best chain only.
CREATE TABLE transactions (
    txid       BLOB    NOT NULL PRIMARY KEY CHECK (length(txid) = 32),
    block_hash BLOB    NOT NULL REFERENCES blocks (hash),
    height     INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    raw        BLOB    NOT NULL,
    -- NULL for a coinbase.
    sender     BLOB    CHECK (sender IS NULL OR length(sender) = 20),
    recipient  BLOB    NOT NULL CHECK (length(recipient) = 20),
    amount     INTEGER NOT NULL,
    fee        INTEGER NOT NULL,
    nonce      INTEGER NOT NULL,
    time_ms    INTEGER NOT NULL
);
CREATE INDEX transactions_block ON transactions (block_hash);
CREATE INDEX transactions_sender ON transactions (sender, height);
CREATE INDEX transactions_recipient ON transactions (recipient, height);

-- Account state at the tip.
CREATE TABLE accounts (
    address BLOB    NOT NULL PRIMARY KEY CHECK (length(address) = 20),
    balance INTEGER NOT NULL,
    nonce   INTEGER NOT NULL
);

-- Accepted transactions not yet mined.
CREATE TABLE pending_transactions (
    txid        BLOB    NOT NULL PRIMARY KEY CHECK (length(txid) = 32),
    raw         BLOB    NOT NULL,
    fee         INTEGER NOT NULL,
    sender      BLOB    CHECK (sender IS NULL OR length(sender) = 20),
    nonce       INTEGER NOT NULL,
    accepted_ms INTEGER NOT NULL
);

-- Node-side wallets: encrypted keystores.
CREATE TABLE wallets (
    address    BLOB    NOT NULL PRIMARY KEY CHECK (length(address) = 20),
    keystore   TEXT    NOT NULL,
    created_ms INTEGER NOT NULL
);

-- Known peers.
CREATE TABLE peers (
    peer_id      TEXT    NOT NULL PRIMARY KEY,
    -- JSON array of multiaddr strings.
    addrs        TEXT    NOT NULL,
    last_seen_ms INTEGER NOT NULL
);
CREATE INDEX peers_last_seen ON peers (last_seen_ms);

-- Single values, such as the best tip ('tip' → 32-byte block hash).
CREATE TABLE chain_meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
);
