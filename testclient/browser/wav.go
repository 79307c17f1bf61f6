package browser

import (
	"encoding/binary"
	"math"
	"os"
	"time"
)

// WAVRate is the sample rate of the tone files (Chromium's fake capture device
// runs at 48 kHz).
const WAVRate = 48000

// WriteToneWAV writes a 16-bit mono PCM WAV file at WAVRate holding a sine of
// freqHz at half scale. Chromium loops the file; a whole number of periods
// per file (any integer frequency over whole seconds) keeps the loop seamless.
func WriteToneWAV(path string, freqHz float64, length time.Duration) error {
	n := int(length.Seconds() * WAVRate)
	data := make([]byte, 44+2*n)
	le := binary.LittleEndian
	copy(data[0:], "RIFF")
	le.PutUint32(data[4:], uint32(36+2*n))
	copy(data[8:], "WAVEfmt ")
	le.PutUint32(data[16:], 16)        // fmt chunk size
	le.PutUint16(data[20:], 1)         // PCM
	le.PutUint16(data[22:], 1)         // mono
	le.PutUint32(data[24:], WAVRate)   // sample rate
	le.PutUint32(data[28:], WAVRate*2) // byte rate
	le.PutUint16(data[32:], 2)         // block align
	le.PutUint16(data[34:], 16)        // bits per sample
	copy(data[36:], "data")
	le.PutUint32(data[40:], uint32(2*n))
	for i := range n {
		v := 0.5 * math.Sin(2*math.Pi*freqHz*float64(i)/WAVRate)
		le.PutUint16(data[44+2*i:], uint16(int16(math.Round(v*math.MaxInt16))))
	}
	return os.WriteFile(path, data, 0o644)
}
