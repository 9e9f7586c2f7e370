//! Character-level text corpora: a vocabulary, encoding and decoding, a train/validation
//! split and batches of fixed-length sequences with next-character targets. Tiny
//! Shakespeare is bundled.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rand::Rng;
use strata_tensor::Tensor;

use crate::dataset::{Dataset, Example, Target, TargetSpec};
use crate::error::DatasetError;

static TINY_SHAKESPEARE: &str = include_str!("../data/tinyshakespeare/input.txt");

/// Default fraction of a corpus used for training (the rest validates).
pub const DEFAULT_TRAIN_FRACTION: f64 = 0.9;

/// A character vocabulary: the distinct characters of a text, sorted by code point, indexed
/// `0..len()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocab {
    chars: Vec<char>,
    ascii: [u16; 128],
    other: HashMap<char, usize>,
}

impl Vocab {
    /// The distinct characters of `text`, sorted by code point.
    pub fn from_text(text: &str) -> Vocab {
        Self::from_chars(text.chars())
    }

    /// The distinct characters among `chars`, sorted by code point.
    pub fn from_chars(chars: impl IntoIterator<Item = char>) -> Vocab {
        let mut seen_ascii = [false; 128];
        let mut others = Vec::new();
        for c in chars {
            if c.is_ascii() {
                seen_ascii[c as usize] = true;
            } else {
                others.push(c);
            }
        }
        others.sort_unstable();
        others.dedup();
        let mut list: Vec<char> = (0u8..128)
            .filter(|&b| seen_ascii[usize::from(b)])
            .map(char::from)
            .collect();
        list.extend(others);
        let mut ascii = [u16::MAX; 128];
        let mut other = HashMap::new();
        for (i, &c) in list.iter().enumerate() {
            if c.is_ascii() {
                ascii[c as usize] = i as u16;
            } else {
                other.insert(c, i);
            }
        }
        Vocab {
            chars: list,
            ascii,
            other,
        }
    }

    /// Number of characters.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Whether the vocabulary is empty.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters, in index order.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The index of `ch`, or `None` if it is not in the vocabulary.
    pub fn index_of(&self, ch: char) -> Option<usize> {
        if ch.is_ascii() {
            let i = self.ascii[ch as usize];
            (i != u16::MAX).then_some(usize::from(i))
        } else {
            self.other.get(&ch).copied()
        }
    }

    /// The character of index `i`.
    ///
    /// # Panics
    ///
    /// If `i >= len()`.
    pub fn char_of(&self, i: usize) -> char {
        assert!(
            i < self.len(),
            "Vocab::char_of: index {i} ≥ vocabulary size {}",
            self.len()
        );
        self.chars[i]
    }

    /// The indices of the characters of `text`.
    ///
    /// # Errors
    ///
    /// [`DatasetError::UnknownChar`] for the first character not in the vocabulary.
    pub fn encode(&self, text: &str) -> Result<Vec<usize>, DatasetError> {
        text.chars()
            .enumerate()
            .map(|(position, ch)| {
                self.index_of(ch)
                    .ok_or(DatasetError::UnknownChar { ch, position })
            })
            .collect()
    }

    /// The text spelled by `ids`.
    ///
    /// # Panics
    ///
    /// If an index is `>= len()`.
    pub fn decode(&self, ids: &[usize]) -> String {
        ids.iter().map(|&i| self.char_of(i)).collect()
    }
}

/// Which part of a corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextSplit {
    /// The leading part (90% by default).
    Train,
    /// The trailing part (10% by default).
    Validation,
}

/// A batch of `batch` sequences of `seq_len` characters with next-character targets:
/// `targets[b][t]` is the character following `inputs[b][t]` in the corpus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextBatch {
    /// Input character indices, `[batch, seq_len]` row-major.
    pub inputs: Vec<usize>,
    /// Target character indices, `[batch, seq_len]` row-major.
    pub targets: Vec<usize>,
    /// Number of sequences.
    pub batch: usize,
    /// Sequence length.
    pub seq_len: usize,
}

impl TextBatch {
    /// The inputs as a `[batch, seq_len]` tensor of indices (as `f32`).
    pub fn input_tensor(&self) -> Tensor {
        indices_tensor(&self.inputs, self.batch, self.seq_len)
    }

    /// The targets as a `[batch, seq_len]` tensor of indices (as `f32`).
    pub fn target_tensor(&self) -> Tensor {
        indices_tensor(&self.targets, self.batch, self.seq_len)
    }

    /// The inputs one-hot encoded: `[batch, seq_len, vocab_size]`.
    ///
    /// # Panics
    ///
    /// If an input index is `>= vocab_size`.
    pub fn one_hot_inputs(&self, vocab_size: usize) -> Tensor {
        let mut data = vec![0.0f32; self.inputs.len() * vocab_size];
        for (row, &i) in data.chunks_exact_mut(vocab_size).zip(&self.inputs) {
            assert!(
                i < vocab_size,
                "TextBatch::one_hot_inputs: index {i} ≥ {vocab_size}"
            );
            row[i] = 1.0;
        }
        Tensor::from_vec(data, &[self.batch, self.seq_len, vocab_size])
    }
}

fn indices_tensor(ids: &[usize], b: usize, t: usize) -> Tensor {
    Tensor::from_vec(ids.iter().map(|&i| i as f32).collect(), &[b, t])
}

/// A character-level corpus: the text encoded with its own [`Vocab`], split into a leading
/// training part and a trailing validation part.
#[derive(Clone, Debug, PartialEq)]
pub struct CharCorpus {
    vocab: Vocab,
    tokens: Arc<[usize]>,
    split: usize,
}

impl CharCorpus {
    /// Encodes `text` with the vocabulary of its distinct characters; the first 90% of the
    /// characters (rounded down) train, the rest validate.
    pub fn new(text: &str) -> CharCorpus {
        let vocab = Vocab::from_text(text);
        let tokens: Arc<[usize]> = vocab
            .encode(text)
            .expect("every character of the text is in its own vocabulary")
            .into();
        let split = (tokens.len() as f64 * DEFAULT_TRAIN_FRACTION) as usize;
        CharCorpus {
            vocab,
            tokens,
            split,
        }
    }

    /// Tiny Shakespeare, bundled with the crate: 1,115,394 ASCII characters, a vocabulary of
    /// 65, split 90/10 (1,003,854 training and 111,540 validation characters).
    pub fn tiny_shakespeare() -> CharCorpus {
        Self::new(TINY_SHAKESPEARE)
    }

    /// The bundled Tiny Shakespeare text itself.
    pub fn tiny_shakespeare_text() -> &'static str {
        TINY_SHAKESPEARE
    }

    /// Reads a UTF-8 text file as a corpus (see [`CharCorpus::new`]).
    ///
    /// # Errors
    ///
    /// [`DatasetError::Io`] if the file cannot be read, [`DatasetError::InvalidUtf8`] (with
    /// the byte offset) if it is not UTF-8.
    pub fn from_file(path: impl AsRef<Path>) -> Result<CharCorpus, DatasetError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| DatasetError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|e| DatasetError::InvalidUtf8 {
            path: path.to_path_buf(),
            offset: e.valid_up_to() as u64,
        })?;
        Ok(Self::new(text))
    }

    /// Re-splits so that the first `fraction` of the characters (rounded down) train.
    ///
    /// # Panics
    ///
    /// If `fraction` is not within `[0, 1]`.
    pub fn with_train_fraction(mut self, fraction: f64) -> CharCorpus {
        assert!(
            (0.0..=1.0).contains(&fraction),
            "CharCorpus::with_train_fraction: {fraction} is outside [0, 1]"
        );
        self.split = (self.tokens.len() as f64 * fraction) as usize;
        self
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// The whole encoded text.
    pub fn tokens(&self) -> &[usize] {
        &self.tokens
    }

    /// Number of characters in the whole text.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The encoded characters of one part.
    pub fn part(&self, split: TextSplit) -> &[usize] {
        match split {
            TextSplit::Train => &self.tokens[..self.split],
            TextSplit::Validation => &self.tokens[self.split..],
        }
    }

    /// The encoded training characters.
    pub fn train(&self) -> &[usize] {
        self.part(TextSplit::Train)
    }

    /// The encoded validation characters.
    pub fn validation(&self) -> &[usize] {
        self.part(TextSplit::Validation)
    }

    /// `batch` sequences of `seq_len` characters starting at offsets drawn uniformly from
    /// `split`, with next-character targets.
    ///
    /// # Panics
    ///
    /// If `batch` or `seq_len` is 0, or the part holds no more than `seq_len` characters.
    pub fn random_batch<R: Rng + ?Sized>(
        &self,
        split: TextSplit,
        batch: usize,
        seq_len: usize,
        rng: &mut R,
    ) -> TextBatch {
        let data = self.part(split);
        assert!(
            batch > 0 && seq_len > 0 && data.len() > seq_len,
            "CharCorpus::random_batch: batch {batch} × seq_len {seq_len} from {} characters",
            data.len()
        );
        let mut inputs = Vec::with_capacity(batch * seq_len);
        let mut targets = Vec::with_capacity(batch * seq_len);
        for _ in 0..batch {
            let start = rng.random_range(0..data.len() - seq_len);
            inputs.extend_from_slice(&data[start..start + seq_len]);
            targets.extend_from_slice(&data[start + 1..start + seq_len + 1]);
        }
        TextBatch {
            inputs,
            targets,
            batch,
            seq_len,
        }
    }

    /// One pass over `split` in order, for stateful recurrent training: the part is cut into
    /// `batch` contiguous streams of equal length, and batch `i` holds characters
    /// `i·seq_len .. (i+1)·seq_len` of every stream, so row `b` of batch `i + 1` continues
    /// row `b` of batch `i`. Characters that do not fill a whole batch are left out.
    ///
    /// # Panics
    ///
    /// If `batch` or `seq_len` is 0.
    pub fn sequential_batches(
        &self,
        split: TextSplit,
        batch: usize,
        seq_len: usize,
    ) -> impl Iterator<Item = TextBatch> + '_ {
        assert!(
            batch > 0 && seq_len > 0,
            "CharCorpus::sequential_batches: batch {batch} and seq_len {seq_len} must be ≥ 1"
        );
        let data = self.part(split);
        let stream = data.len() / batch;
        let count = stream.saturating_sub(1) / seq_len;
        (0..count).map(move |i| {
            let mut inputs = Vec::with_capacity(batch * seq_len);
            let mut targets = Vec::with_capacity(batch * seq_len);
            for b in 0..batch {
                let start = b * stream + i * seq_len;
                inputs.extend_from_slice(&data[start..start + seq_len]);
                targets.extend_from_slice(&data[start + 1..start + seq_len + 1]);
            }
            TextBatch {
                inputs,
                targets,
                batch,
                seq_len,
            }
        })
    }

    /// `split` as a [`Dataset`] of non-overlapping windows of `seq_len` characters (see
    /// [`SequenceDataset`]), for shuffled batches through the [`DataLoader`](crate::DataLoader).
    ///
    /// # Panics
    ///
    /// If `seq_len` is 0.
    pub fn sequences(&self, split: TextSplit, seq_len: usize) -> SequenceDataset {
        assert!(seq_len > 0, "CharCorpus::sequences: seq_len must be ≥ 1");
        let (start, end) = match split {
            TextSplit::Train => (0, self.split),
            TextSplit::Validation => (self.split, self.tokens.len()),
        };
        SequenceDataset {
            tokens: self.tokens.clone(),
            start,
            end,
            seq_len,
            vocab_size: self.vocab.len(),
        }
    }
}

/// Non-overlapping windows of a character corpus as a [`Dataset`]: example `i` has as input
/// the `seq_len` character indices starting at `i · seq_len` (as `f32`, shape `[seq_len]`)
/// and as target the `seq_len` indices one character later (values of shape `[seq_len]`).
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceDataset {
    tokens: Arc<[usize]>,
    start: usize,
    end: usize,
    seq_len: usize,
    vocab_size: usize,
}

impl SequenceDataset {
    /// The sequence length.
    pub fn seq_len(&self) -> usize {
        self.seq_len
    }

    /// The vocabulary size of the corpus.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The input and target character indices of example `index`.
    ///
    /// # Panics
    ///
    /// If `index >= len()`.
    pub fn window(&self, index: usize) -> (&[usize], &[usize]) {
        assert!(
            index < self.len(),
            "SequenceDataset: index {index} ≥ len {}",
            self.len()
        );
        let s = self.start + index * self.seq_len;
        (
            &self.tokens[s..s + self.seq_len],
            &self.tokens[s + 1..s + self.seq_len + 1],
        )
    }
}

impl Dataset for SequenceDataset {
    fn len(&self) -> usize {
        (self.end - self.start).saturating_sub(1) / self.seq_len
    }

    fn input_shape(&self) -> Vec<usize> {
        vec![self.seq_len]
    }

    fn target_spec(&self) -> TargetSpec {
        TargetSpec::Values(vec![self.seq_len])
    }

    fn get(&self, index: usize) -> Example {
        let (x, y) = self.window(index);
        Example {
            input: x.iter().map(|&i| i as f32).collect(),
            target: Target::Values(y.iter().map(|&i| i as f32).collect()),
        }
    }

    fn get_into(&self, index: usize, input: &mut [f32]) -> Target {
        let (x, y) = self.window(index);
        for (o, &i) in input.iter_mut().zip(x) {
            *o = i as f32;
        }
        Target::Values(y.iter().map(|&i| i as f32).collect())
    }
}
