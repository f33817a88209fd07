//! A process for the harness's own tests to run and watch: `harness_child shared` starts both
//! shared servers, prints `SHARED pid port folder` for each and exits without dropping them
//! (statics never are); `harness_child start` starts and pings one Redis server.

use cachex_tests::{Server, ServerKind, shared};

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("shared") => {
            for kind in ServerKind::ALL {
                let server = shared(kind);
                assert_eq!(server.command(&["PING"]), "+PONG\r\n");
                let pid = server.pid().expect("running");
                println!("SHARED {pid} {} {}", server.port(), server.dir().display());
            }
        }
        Some("start") => {
            let server = Server::start(ServerKind::Redis);
            assert_eq!(server.command(&["PING"]), "+PONG\r\n");
        }
        other => {
            eprintln!("usage: harness_child shared|start (got {other:?})");
            std::process::exit(2);
        }
    }
}
