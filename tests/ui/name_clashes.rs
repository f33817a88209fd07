#[cachex::auto_async]
pub trait Twins {
    async fn get(&self) -> u8;
    fn aget(&self) -> u8;
}

#[cachex::auto_async]
pub trait View {
    fn a(&self) -> u8;
}

#[cachex::auto_async]
pub trait RawTwins {
    fn r#type(&self) -> u8;
    fn atype(&self) -> u8;
}



#[cachex::auto_async]
pub trait Reserved {
    fn _mut(&self) -> u8;
    fn bump(&mut self);
    fn __target(&self) -> u8;
}

#[cachex::auto_async]
pub trait SameCfg {
    #[cfg(unix)]
    async fn get(&self) -> u8;
    #[cfg(unix)]
    fn get(&self) -> u8;
}
fn main() {}
