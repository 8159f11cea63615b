/* banned.h — functions with safer replacements in this tree (curl's practice). */
#pragma once
#undef strcpy
#define strcpy(a, b) BANNED_use_snprintf_or_memcpy(a, b)
#undef strcat
#define strcat(a, b) BANNED_use_snprintf(a, b)
#undef sprintf
#define sprintf(...) BANNED_use_snprintf(__VA_ARGS__)
#undef vsprintf
#define vsprintf(...) BANNED_use_vsnprintf(__VA_ARGS__)
#undef gets
#define gets(a) BANNED_use_fgets(a)
#undef strtok
#define strtok(a, b) BANNED_use_strtok_r(a, b)
