//! Protocol and topic names of one network (DESIGN §4: a contract, outside
//! peers use them).

use core::fmt;

use libp2p::StreamProtocol;
use libp2p::gossipsub::IdentTopic;

/// The protocol and topic names of one network.
#[derive(Clone, Debug)]
pub struct ProtocolNames {
    /// Kademlia: `/blockchain/<network>/kad/1.0.0`.
    pub kad: StreamProtocol,
    /// Request-response: `/blockchain/<network>/sync/1`.
    pub sync: StreamProtocol,
    /// Gossip topic of blocks: `/blockchain/<network>/blocks/1`.
    pub blocks: IdentTopic,
    /// Gossip topic of transactions: `/blockchain/<network>/transactions/1`.
    pub transactions: IdentTopic,
    /// Identify's protocol version: `/blockchain/<network>/1.0.0`.
    pub identify: String,
}

/// A network name that cannot be part of a protocol name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolNameError(pub String);

impl fmt::Display for ProtocolNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid protocol name {:?}", self.0)
    }
}

impl std::error::Error for ProtocolNameError {}

impl ProtocolNames {
    /// The names of `network` ("devnet", "regtest").
    pub fn for_network(network: &str) -> Result<Self, ProtocolNameError> {
        let stream = |name: String| {
            StreamProtocol::try_from_owned(name.clone()).map_err(|_| ProtocolNameError(name))
        };
        Ok(Self {
            kad: stream(format!("/blockchain/{network}/kad/1.0.0"))?,
            sync: stream(format!("/blockchain/{network}/sync/1"))?,
            blocks: IdentTopic::new(format!("/blockchain/{network}/blocks/1")),
            transactions: IdentTopic::new(format!("/blockchain/{network}/transactions/1")),
            identify: format!("/blockchain/{network}/1.0.0"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_design() {
        let names = ProtocolNames::for_network("devnet").expect("valid names");
        assert_eq!(names.kad.as_ref(), "/blockchain/devnet/kad/1.0.0");
        assert_eq!(names.sync.as_ref(), "/blockchain/devnet/sync/1");
        assert_eq!(names.blocks.to_string(), "/blockchain/devnet/blocks/1");
        assert_eq!(
            names.transactions.to_string(),
            "/blockchain/devnet/transactions/1"
        );
        assert_eq!(names.identify, "/blockchain/devnet/1.0.0");
    }
}
