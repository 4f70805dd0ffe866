import { describe, expect, it } from 'vitest';
import { notTensorflowLines } from './quiet-load';

describe('notTensorflowLines', () => {
  it("drops TensorFlow's pre-logging lines and keeps everything else, in order", () => {
    const captured = [
      'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR',
      'I0000 00:00:1796197909.334387    7919 port.cc:153] oneDNN custom operations are on. You may see slightly different numerical results.',
      'E0000 00:00:1796197909.401234    7919 cuda_dnn.cc:8310] Unable to register cuDNN factory: Attempting to register factory for plugin cuDNN when one has already been registered',
      'trial 3: epoch 1 mIoU 0.41',
      'W1202 08:11:02.123456   4242 some_file.cc:12] later warning',
      'segtune: note: something else',
      '',
    ].join('\n');
    expect(notTensorflowLines(captured)).toBe('trial 3: epoch 1 mIoU 0.41\nsegtune: note: something else\n');
    expect(notTensorflowLines('')).toBe('');
  });
});
