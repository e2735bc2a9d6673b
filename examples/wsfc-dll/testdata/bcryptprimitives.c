// A stand-in for bcryptprimitives.dll, which Wine 8.0 lacks: the Go runtime
// (since Go 1.22) loads it from the system directory for ProcessPrng. This
// one implements ProcessPrng over advapi32's RtlGenRandom
// (SystemFunction036). wine_test.go builds it and copies it into its own
// Wine prefix only; nothing else uses it.
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
	while (length > 0) {
		ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
		if (!SystemFunction036(data, n)) {
			return FALSE;
		}
		data += n;
		length -= n;
	}
	return TRUE;
}
