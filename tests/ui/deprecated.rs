#![deny(deprecated)]

#[cachex::auto_async]
pub trait Old {
    #[auto_async(deprecated_sync = "call `aget` from async code")]
    async fn get(&self) -> u8;
    #[auto_async(deprecated_async = "`size` is cheap: call it directly")]
    fn size(&self) -> u8;
}

struct S;

impl Old for S {
    async fn aget(&self) -> u8 {
        1
    }
    fn size(&self) -> u8 {
        2
    }
}

async fn uses() {
    let _ = S.get();
    let _ = S.asize().await;
    let _ = S.a().size().await;
    let _ = OldHandles::new(&S).get.as_sync();
    let _ = S.aget().await + S.size(); // the native sides are not deprecated
}

fn main() {
    let _ = uses();
}
