//! Malformed input: every check of the reader and the dequantizer, truncation at every
//! offset, and random mutations. None of these may panic or allocate what the file claims.

use flint_gguf::{
    DequantError, ErrorKind, GgmlType, GgufError, GgufFile, MetadataArray, MetadataValue,
    dequantize, dequantize_to_vec,
};
use flint_tests::gguf_writer::*;

fn parse_err(bytes: &[u8]) -> GgufError {
    match GgufFile::parse(bytes) {
        Ok(_) => panic!("parse unexpectedly succeeded"),
        Err(e) => e,
    }
}

/// A file whose only content is one metadata entry.
fn one_kv(key: &str, type_id: u32, value: &[u8]) -> Vec<u8> {
    Builder::default().kv(key, type_id, value).build()
}

fn one_tensor(t: TensorSpec) -> Vec<u8> {
    Builder::default().tensor(t).build()
}

#[test]
fn rich_file_parses() {
    let file = GgufFile::parse(&rich_file()).unwrap();
    assert_eq!(file.version(), 3);
    assert_eq!(file.alignment(), 32);
    assert_eq!(file.metadata().len(), 16);
    assert_eq!(file.get_u32("a.u8").unwrap(), 7);
    assert_eq!(file.get_i32("a.i8").unwrap(), -1);
    assert_eq!(file.get_i64("a.i16").unwrap(), -300);
    assert_eq!(file.get_u64("a.u64").unwrap(), 1 << 40);
    assert_eq!(file.get_f32("a.f32").unwrap(), 1.5);
    assert_eq!(file.get_f64("a.f64").unwrap(), 2.25);
    assert!(file.get_bool("a.bool").unwrap());
    assert_eq!(file.get_str("general.architecture").unwrap(), "test");
    assert_eq!(file.get_str_array("a.strings").unwrap(), ["ab", "c"]);
    assert_eq!(file.get_f32_array("a.f32s").unwrap(), [0.5]);
    assert_eq!(file.get_i32_array("a.empty").unwrap(), [0i32; 0]);
    assert_eq!(
        file.get("a.nested"),
        Some(&MetadataValue::Array(MetadataArray::Array(vec![
            MetadataArray::U16(vec![1, 2]),
            MetadataArray::String(vec!["x".into()]),
        ])))
    );

    let names: Vec<_> = file.tensors().iter().map(|t| t.name()).collect();
    assert_eq!(names, ["norm", "emb", "last"]);
    let last = file.tensor("last").unwrap();
    assert_eq!(last.shape(), [3, 2]);
    assert_eq!(last.shape_row_major(), [2, 3]);
    assert_eq!(last.offset(), 128);
    assert_eq!(
        file.dequantize_tensor(last).unwrap(),
        [0., 1., 2., 3., 4., 5.]
    );
    let emb = file.tensor("emb").unwrap();
    assert_eq!(
        (emb.ggml_type(), emb.n_elements(), emb.n_bytes()),
        (GgmlType::Q8_0, 64, 68)
    );
    assert_eq!(file.tensor_bytes(emb).len(), 68);
    // The file ends exactly at the last tensor's end.
    assert_eq!(last.data_range().end, file.as_bytes().len());
}

#[test]
fn truncated_at_every_offset() {
    let bytes = rich_file();
    for len in 0..bytes.len() {
        let err = parse_err(&bytes[..len]);
        assert!(
            matches!(
                err.kind(),
                ErrorKind::Truncated { .. }
                    | ErrorKind::TooLarge { .. }
                    | ErrorKind::TensorOutOfRange { .. }
            ),
            "len {len}: {err}"
        );
    }
}

#[test]
fn truncation_message_says_what_and_where() {
    let bytes = one_kv("a.u32", T_U32, &7u32.to_le_bytes());
    // Cut inside the value: header (24) + key (8 + 5) + type (4) + 2 of its 4 bytes.
    let at = 24 + 13 + 4 + 2;
    let err = parse_err(&bytes[..at]);
    let msg = err.to_string();
    assert!(msg.starts_with("<memory>: truncated"), "{msg}");
    assert!(msg.contains("metadata value 'a.u32'"), "{msg}");
}

#[test]
fn bad_magic() {
    let b = Builder {
        magic: *b"GGML",
        ..Default::default()
    };
    let err = parse_err(&b.build());
    assert!(matches!(err.kind(), ErrorKind::BadMagic { found } if found == b"GGML"));
}

#[test]
fn versions() {
    for version in [0, 1, 4, 0x0300_0000] {
        let b = Builder {
            version,
            ..Default::default()
        };
        let err = parse_err(&b.build());
        assert!(
            matches!(err.kind(), ErrorKind::UnsupportedVersion { version: v } if *v == version),
            "{err}"
        );
    }
    for version in [2, 3] {
        let b = Builder {
            version,
            ..Default::default()
        }
        .tensor(TensorSpec::f32("t", &[4]));
        assert_eq!(GgufFile::parse(&b.build()).unwrap().version(), version);
    }
}

#[test]
fn huge_lengths_rejected_before_allocating() {
    // Each of these would need exabytes if allocated as claimed.
    let cases = [
        one_kv("k", T_ARRAY, &array(T_U8, 1 << 60, &[])),
        one_kv("k", T_ARRAY, &array(T_STRING, 1 << 60, &[])),
        one_kv("k", T_ARRAY, &array(T_ARRAY, 1 << 62, &[])),
        one_kv("k", T_ARRAY, &array(T_F64, u64::MAX, &[])),
        one_kv("k", T_STRING, &(1u64 << 60).to_le_bytes()),
    ];
    for bytes in cases {
        let err = parse_err(&bytes);
        assert!(matches!(err.kind(), ErrorKind::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("metadata value 'k'"), "{err}");
    }
    // A key length of 2^64 - 1, straight after the header.
    let header = Builder {
        n_kv: Some(1),
        ..Default::default()
    }
    .build();
    let bytes = [&header[..24], &u64::MAX.to_le_bytes(), &[0; 16]].concat();
    let err = parse_err(&bytes);
    assert!(matches!(err.kind(), ErrorKind::TooLarge { .. }), "{err}");
    assert!(
        err.to_string().contains("key of metadata entry #0"),
        "{err}"
    );

    for (n_tensors, n_kv) in [
        (Some(1 << 60), None),
        (None, Some(1 << 60)),
        (Some(u64::MAX), None),
    ] {
        let b = Builder {
            n_tensors,
            n_kv,
            ..Default::default()
        };
        let err = parse_err(&b.build());
        assert!(matches!(err.kind(), ErrorKind::TooLarge { .. }), "{err}");
    }
}

#[test]
fn unknown_value_types() {
    let err = parse_err(&one_kv("k", 13, &[0; 16]));
    assert!(
        matches!(err.kind(), ErrorKind::UnknownValueType { type_id: 13, .. }),
        "{err}"
    );
    let err = parse_err(&one_kv("k", T_ARRAY, &array(99, 1, &[0; 16])));
    assert!(
        matches!(err.kind(), ErrorKind::UnknownValueType { type_id: 99, .. }),
        "{err}"
    );
}

#[test]
fn invalid_bool_and_utf8() {
    let err = parse_err(&one_kv("k", T_BOOL, &[2]));
    assert!(
        matches!(err.kind(), ErrorKind::InvalidBool { value: 2, .. }),
        "{err}"
    );
    let err = parse_err(&one_kv("k", T_STRING, &string(&[0xff, 0xfe])));
    assert!(matches!(err.kind(), ErrorKind::InvalidUtf8 { .. }), "{err}");
    let bad_key = [string(&[b'a', 0xc3]), T_U8.to_le_bytes().to_vec(), vec![0]].concat();
    let b = Builder {
        kvs: vec![bad_key],
        ..Default::default()
    };
    let err = parse_err(&b.build());
    assert!(
        matches!(err.kind(), ErrorKind::InvalidUtf8 { context } if context.contains("key")),
        "{err}"
    );
    let mut t = TensorSpec::f32("x", &[1]);
    t.name = vec![0x80];
    let err = parse_err(&one_tensor(t));
    assert!(
        matches!(err.kind(), ErrorKind::InvalidUtf8 { context } if context.contains("tensor #0")),
        "{err}"
    );
}

#[test]
fn nesting_depth_is_bounded() {
    // `depth` arrays, each holding the next; the innermost holds one u8.
    let nest = |depth: usize| {
        let level = array(T_ARRAY, 1, &[]);
        let mut value = level.repeat(depth - 1);
        value.extend(array(T_U8, 1, &[5]));
        one_kv("deep", T_ARRAY, &value)
    };
    assert!(GgufFile::parse(&nest(flint_gguf::MAX_ARRAY_NESTING)).is_ok());
    let err = parse_err(&nest(flint_gguf::MAX_ARRAY_NESTING + 1));
    assert!(
        matches!(err.kind(), ErrorKind::NestingTooDeep { .. }),
        "{err}"
    );
    // Far deeper than any stack could recurse: still a clean error.
    let err = parse_err(&nest(100_000));
    assert!(
        matches!(err.kind(), ErrorKind::NestingTooDeep { .. }),
        "{err}"
    );
}

#[test]
fn duplicate_key() {
    let b = Builder::default().kv("k", T_U8, &[1]).kv("k", T_U8, &[2]);
    let err = parse_err(&b.build());
    assert!(
        matches!(err.kind(), ErrorKind::DuplicateKey { key } if key == "k"),
        "{err}"
    );
}

#[test]
fn alignment() {
    let b = Builder {
        alignment: 64,
        ..Default::default()
    }
    .kv("general.alignment", T_U32, &64u32.to_le_bytes())
    .tensor(TensorSpec::f32("a", &[3]))
    .tensor(TensorSpec::f32("b", &[3]));
    let file = GgufFile::parse(&b.build()).unwrap();
    assert_eq!(file.alignment(), 64);
    assert_eq!(file.data_offset() % 64, 0);
    assert_eq!(file.tensor("b").unwrap().offset(), 64);

    for (type_id, value) in [
        (T_U32, 0u32.to_le_bytes().to_vec()),
        (T_U32, 48u32.to_le_bytes().to_vec()),
        (T_U64, 32u64.to_le_bytes().to_vec()),
    ] {
        let err = parse_err(&one_kv("general.alignment", type_id, &value));
        assert!(
            matches!(err.kind(), ErrorKind::BadAlignment { .. }),
            "{err}"
        );
    }
}

#[test]
fn unknown_ggml_type() {
    for type_id in [4, 5, 31, 99, u32::MAX] {
        let err = parse_err(&one_tensor(TensorSpec::new(
            "w",
            &[32],
            type_id,
            vec![0; 32],
        )));
        assert!(
            matches!(err.kind(), ErrorKind::UnknownGgmlType { tensor, type_id: t } if tensor == "w" && *t == type_id),
            "{err}"
        );
    }
}

#[test]
fn too_many_dims() {
    let err = parse_err(&one_tensor(TensorSpec::f32("w", &[1, 1, 1, 1, 1])));
    assert!(
        matches!(err.kind(), ErrorKind::TooManyDims { n_dims: 5, .. }),
        "{err}"
    );
    let mut b = Builder::default().tensor(TensorSpec::f32("w", &[1]));
    b.tensors[0].dims = vec![];
    // Zero dimensions is a scalar in ggml: one element.
    let file = GgufFile::parse(&b.build()).unwrap();
    assert_eq!(file.tensors()[0].n_elements(), 1);
}

#[test]
fn dims_overflow() {
    for dims in [
        vec![1 << 32, 1 << 32],
        vec![1 << 21, 1 << 21, 1 << 21],
        vec![u64::MAX, 2],
    ] {
        let err = parse_err(&one_tensor(TensorSpec::new("w", &dims, 0, vec![])));
        assert!(
            matches!(err.kind(), ErrorKind::ShapeOverflow { .. }),
            "{dims:?}: {err}"
        );
    }
    // Elements fit in i64 but the byte size does not.
    let err = parse_err(&one_tensor(TensorSpec::new("w", &[1 << 62], 0, vec![])));
    assert!(
        matches!(err.kind(), ErrorKind::ShapeOverflow { .. }),
        "{err}"
    );
}

#[test]
fn row_not_block_aligned() {
    let err = parse_err(&one_tensor(TensorSpec::new("w", &[16, 2], 8, vec![0; 34])));
    assert!(
        matches!(
            err.kind(),
            ErrorKind::RowNotBlockAligned {
                ggml_type: GgmlType::Q8_0,
                ne0: 16,
                block_size: 32,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn misaligned_offset() {
    let mut t = TensorSpec::f32("w", &[4]);
    t.offset = Some(4);
    let err = parse_err(&one_tensor(t));
    assert!(
        matches!(
            err.kind(),
            ErrorKind::MisalignedOffset {
                offset: 4,
                alignment: 32,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn out_of_range_data() {
    // Data claimed but missing.
    let err = parse_err(&one_tensor(TensorSpec::new("w", &[8], 0, vec![])));
    assert!(
        matches!(err.kind(), ErrorKind::TensorOutOfRange { tensor, .. } if tensor == "w"),
        "{err}"
    );
    // Offset far beyond the file, and offsets where start + size overflows.
    for offset in [1 << 40, 1 << 63, !31] {
        let mut t = TensorSpec::new("w", &[8], 0, vec![]);
        t.offset = Some(offset);
        let err = parse_err(&Builder::default().tensor(t).build());
        assert!(
            matches!(err.kind(), ErrorKind::TensorOutOfRange { .. }),
            "{err}"
        );
    }
}

#[test]
fn overlapping_tensors() {
    let mut b = TensorSpec::f32("b", &[16]);
    b.offset = Some(32);
    let mut a = TensorSpec::f32("a", &[16]); // bytes 0..64
    a.offset = Some(0);
    let err = parse_err(&Builder::default().tensor(b).tensor(a).build());
    assert!(
        matches!(err.kind(), ErrorKind::TensorOverlap { first, second } if first == "a" && second == "b"),
        "{err}"
    );
    // Empty tensors overlap nothing.
    let mut empty = TensorSpec::f32("e", &[0]);
    empty.offset = Some(0);
    let ok = Builder::default()
        .tensor(TensorSpec::f32("a", &[16]))
        .tensor(empty);
    assert!(GgufFile::parse(&ok.build()).is_ok());
}

#[test]
fn duplicate_tensor_names() {
    let b = Builder::default()
        .tensor(TensorSpec::f32("w", &[2]))
        .tensor(TensorSpec::f32("w", &[2]));
    let err = parse_err(&b.build());
    assert!(
        matches!(err.kind(), ErrorKind::DuplicateTensor { tensor } if tensor == "w"),
        "{err}"
    );
}

#[test]
fn errors_name_the_file_and_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.gguf");
    std::fs::write(
        &path,
        one_tensor(TensorSpec::new("blk.0.attn_q.weight", &[8], 0, vec![])),
    )
    .unwrap();
    let msg = GgufFile::open(&path).unwrap_err().to_string();
    assert!(
        msg.contains("broken.gguf") && msg.contains("blk.0.attn_q.weight"),
        "{msg}"
    );

    let missing = dir.path().join("missing.gguf");
    let err = GgufFile::open(&missing).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io(_)));
    assert!(err.origin().ends_with("missing.gguf"));

    let empty = dir.path().join("empty.gguf");
    std::fs::write(&empty, b"").unwrap();
    let err = GgufFile::open(&empty).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Truncated { .. }), "{err}");

    let good = dir.path().join("good.gguf");
    std::fs::write(&good, rich_file()).unwrap();
    let file = GgufFile::open(&good).unwrap();
    assert_eq!(file.origin(), good.display().to_string());
    assert_eq!(file.tensors().len(), 3);
}

#[test]
fn typed_getter_errors() {
    let file = GgufFile::parse(&rich_file()).unwrap();
    let err = file.get_u32("nope").unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::MissingKey { key } if key == "nope"));
    assert_eq!(err.to_string(), "<memory>: missing metadata key 'nope'");
    let err = file.get_u32("a.i8").unwrap_err(); // -1 does not fit
    assert!(
        matches!(err.kind(), ErrorKind::WrongType { found, .. } if found == "i8 -1"),
        "{err}"
    );
    let err = file.get_str("a.u8").unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WrongType { found, .. } if found == "u8 7"),
        "{err}"
    );
    assert!(file.get_f32("a.f64").is_err());
    assert!(file.get_str_array("a.f32s").is_err());
    let err = file.get_i32("a.u64").unwrap_err();
    assert!(err.to_string().contains("'a.u64'"), "{err}");
}

#[test]
fn dequant_length_checks() {
    let mut out = vec![0.0; 32];
    assert_eq!(
        dequantize(GgmlType::Q8_0, &[0; 33], 32, &mut out),
        Err(DequantError::ByteLength {
            ggml_type: GgmlType::Q8_0,
            n_elements: 32,
            expected: 34,
            actual: 33
        })
    );
    assert!(matches!(
        dequantize(GgmlType::Q4_K, &[0; 144], 255, &mut out),
        Err(DequantError::NotBlockMultiple {
            block_size: 256,
            ..
        })
    ));
    assert_eq!(
        dequantize(GgmlType::F32, &[0; 64], 16, &mut out),
        Err(DequantError::OutputLength {
            expected: 16,
            actual: 32
        })
    );
    assert_eq!(
        dequantize(GgmlType::IQ2_XXS, &[0; 66], 256, &mut vec![0.0; 256]),
        Err(DequantError::Unsupported(GgmlType::IQ2_XXS))
    );
    // A huge element count is refused before allocating the output.
    assert!(dequantize_to_vec(GgmlType::F32, &[], usize::MAX / 2).is_err());
    assert_eq!(dequantize_to_vec(GgmlType::Q6_K, &[], 0), Ok(vec![]));
}

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_mutations_never_panic() {
    let base = rich_file();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let mut bytes = base.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len());
            bytes[at] = match rng.below(4) {
                0 => rng.next() as u8,
                1 => bytes[at] ^ (1 << rng.below(8)),
                2 => 0xff,
                _ => 0,
            };
        }
        if rng.below(8) == 0 {
            bytes.truncate(rng.below(bytes.len()));
        }
        if let Ok(file) = GgufFile::parse(&bytes) {
            parsed += 1;
            for t in file.tensors() {
                let _ = file.dequantize_tensor(t);
            }
        }
    }
    // Most mutations hit tensor data or values and still parse.
    assert!(parsed > 1000, "{parsed}");
}

/// A valid file using every metadata type (nested arrays included) and three tensors of
/// different types; used for truncation and fuzzing.
pub fn rich_file() -> Vec<u8> {
    let q8: Vec<u8> = (0..2 * 34u32)
        .map(|i| if i % 34 == 1 { 0x3c } else { i as u8 })
        .collect();
    let nested = {
        let mut inner = array(T_U16, 2, &[1, 0, 2, 0]);
        inner.extend(array(T_STRING, 1, &string(b"x")));
        array(T_ARRAY, 2, &inner)
    };
    Builder::default()
        .kv("general.architecture", T_STRING, &string(b"test"))
        .kv("a.u8", T_U8, &[7])
        .kv("a.i8", T_I8, &[0xff])
        .kv("a.u16", T_U16, &300u16.to_le_bytes())
        .kv("a.i16", T_I16, &(-300i16).to_le_bytes())
        .kv("a.u32", T_U32, &70000u32.to_le_bytes())
        .kv("a.i32", T_I32, &(-70000i32).to_le_bytes())
        .kv("a.f32", T_F32, &1.5f32.to_le_bytes())
        .kv("a.bool", T_BOOL, &[1])
        .kv("a.u64", T_U64, &(1u64 << 40).to_le_bytes())
        .kv("a.i64", T_I64, &(-(1i64 << 40)).to_le_bytes())
        .kv("a.f64", T_F64, &2.25f64.to_le_bytes())
        .kv(
            "a.strings",
            T_ARRAY,
            &array(T_STRING, 2, &[string(b"ab"), string(b"c")].concat()),
        )
        .kv("a.f32s", T_ARRAY, &array(T_F32, 1, &0.5f32.to_le_bytes()))
        .kv("a.empty", T_ARRAY, &array(T_I32, 0, &[]))
        .kv("a.nested", T_ARRAY, &nested)
        .tensor(TensorSpec::f32("norm", &[5]))
        .tensor(TensorSpec::new("emb", &[32, 2], 8, q8))
        .tensor(TensorSpec::f32("last", &[3, 2]))
        .build()
}
