#[cachex::auto_async]
pub struct Store {
    value: u8,
}

#[cachex::auto_async]
pub fn get() -> u8 {
    1
}

fn main() {
    let _ = Store { value: get() }.value;
}
