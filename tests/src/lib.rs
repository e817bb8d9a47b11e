//! Integration tests of BlockChain live in `tests/tests/`: they start real
//! `blockchain-node` processes on 127.0.0.1 against real SQLite and
//! PostgreSQL databases. This library is empty on purpose.
