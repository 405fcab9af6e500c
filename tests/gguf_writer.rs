//! A tiny GGUF writer for the tests (flint-gguf's and the workspace's): builds valid files
//! and, by overriding fields, every kind of malformed one.

pub const T_U8: u32 = 0;
pub const T_I8: u32 = 1;
pub const T_U16: u32 = 2;
pub const T_I16: u32 = 3;
pub const T_U32: u32 = 4;
pub const T_I32: u32 = 5;
pub const T_F32: u32 = 6;
pub const T_BOOL: u32 = 7;
pub const T_STRING: u32 = 8;
pub const T_ARRAY: u32 = 9;
pub const T_U64: u32 = 10;
pub const T_I64: u32 = 11;
pub const T_F64: u32 = 12;

/// GGUF string encoding: u64 length + bytes.
pub fn string(s: &[u8]) -> Vec<u8> {
    let mut out = (s.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(s);
    out
}

/// An array value body: element type, u64 count, encoded elements.
pub fn array(elem: u32, count: u64, elements: &[u8]) -> Vec<u8> {
    let mut out = elem.to_le_bytes().to_vec();
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(elements);
    out
}

/// One metadata entry: key, value type, encoded value.
pub fn kv(key: &str, type_id: u32, value: &[u8]) -> Vec<u8> {
    let mut out = string(key.as_bytes());
    out.extend_from_slice(&type_id.to_le_bytes());
    out.extend_from_slice(value);
    out
}

pub struct TensorSpec {
    pub name: Vec<u8>,
    pub dims: Vec<u64>,
    pub type_id: u32,
    /// Bytes written at the tensor's offset (may disagree with the dims on purpose).
    pub data: Vec<u8>,
    /// `None`: placed after the previous tensor, aligned.
    pub offset: Option<u64>,
}

impl TensorSpec {
    pub fn new(name: &str, dims: &[u64], type_id: u32, data: Vec<u8>) -> Self {
        Self {
            name: name.as_bytes().to_vec(),
            dims: dims.to_vec(),
            type_id,
            data,
            offset: None,
        }
    }

    /// An F32 tensor holding 0, 1, 2, ...
    pub fn f32(name: &str, dims: &[u64]) -> Self {
        let n: u64 = dims.iter().product();
        let data = (0..n).flat_map(|i| (i as f32).to_le_bytes()).collect();
        Self::new(name, dims, 0, data)
    }
}

pub struct Builder {
    pub magic: [u8; 4],
    pub version: u32,
    pub kvs: Vec<Vec<u8>>,
    pub tensors: Vec<TensorSpec>,
    /// Alignment used to place data (set `general.alignment` separately to match).
    pub alignment: u64,
    pub n_tensors: Option<u64>,
    pub n_kv: Option<u64>,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            magic: *b"GGUF",
            version: 3,
            kvs: Vec::new(),
            tensors: Vec::new(),
            alignment: 32,
            n_tensors: None,
            n_kv: None,
        }
    }
}

fn align(x: u64, a: u64) -> u64 {
    x.div_ceil(a) * a
}

impl Builder {
    pub fn kv(mut self, key: &str, type_id: u32, value: &[u8]) -> Self {
        self.kvs.push(kv(key, type_id, value));
        self
    }

    pub fn tensor(mut self, t: TensorSpec) -> Self {
        self.tensors.push(t);
        self
    }

    /// The file bytes; it ends exactly where the last tensor's data ends.
    pub fn build(&self) -> Vec<u8> {
        let mut out = self.magic.to_vec();
        out.extend_from_slice(&self.version.to_le_bytes());
        let n_tensors = self.n_tensors.unwrap_or(self.tensors.len() as u64);
        out.extend_from_slice(&n_tensors.to_le_bytes());
        let n_kv = self.n_kv.unwrap_or(self.kvs.len() as u64);
        out.extend_from_slice(&n_kv.to_le_bytes());
        for kv in &self.kvs {
            out.extend_from_slice(kv);
        }
        let mut next = 0;
        let mut offsets = Vec::new();
        for t in &self.tensors {
            let offset = t.offset.unwrap_or(next);
            next = align(offset + t.data.len() as u64, self.alignment);
            offsets.push(offset);
            out.extend_from_slice(&string(&t.name));
            out.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
            for d in &t.dims {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.extend_from_slice(&t.type_id.to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
        }
        let data_start = align(out.len() as u64, self.alignment) as usize;
        out.resize(data_start, 0);
        for (t, offset) in self.tensors.iter().zip(offsets) {
            if t.data.is_empty() {
                continue;
            }
            let start = data_start + offset as usize;
            let end = start + t.data.len();
            if out.len() < end {
                out.resize(end, 0);
            }
            out[start..end].copy_from_slice(&t.data);
        }
        out
    }
}
