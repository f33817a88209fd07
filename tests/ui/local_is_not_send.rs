// In `local` mode futures are not `Send`: they cannot be spawned on a multi-thread runtime.
use std::rc::Rc;

#[cachex::auto_async(local)]
pub trait Local {
    async fn get(&self) -> u8;
}

struct S;

impl Local for S {
    async fn aget(&self) -> u8 {
        let rc = Rc::new(1);
        std::future::ready(()).await;
        *rc
    }
}

fn main() {
    let _ = tokio::spawn(async { S.aget().await });
}
