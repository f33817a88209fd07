// What keeps a trait from being a trait object is reported once per cause; the trait still
// expands (without trait object support), so the impls get no other error.
#[cachex::auto_async(dyn)]
pub trait NotShareable {
    async fn get(&self) -> u8;
}

#[cachex::auto_async(dyn)]
pub trait Generic<K>: Send + Sync {
    async fn get(&self, key: K) -> u8;
}

#[cachex::auto_async(dyn)]
pub trait RequiredGeneric: Send + Sync {
    async fn get<V: Default>(&self) -> V;
    const LIMIT: usize;
}

struct S;

impl NotShareable for S {
    async fn aget(&self) -> u8 {
        1
    }
}

impl Generic<u8> for S {
    async fn aget(&self, key: u8) -> u8 {
        key
    }
}

impl RequiredGeneric for S {
    async fn aget<V: Default>(&self) -> V {
        V::default()
    }
    const LIMIT: usize = 1;
}

fn main() {
    let _ = NotShareable::get(&S) + Generic::get(&S, 1) + RequiredGeneric::get::<u8>(&S);
}
