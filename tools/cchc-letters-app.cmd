@echo off
rem Ung dung van phong cchc-letters: nhap dup de mo trong trinh duyet.
rem The office app: double-click to open it in the browser. Edit OUT and PROFILE once.
chcp 65001 >nul
set "OUT=%USERPROFILE%\Documents\thu-hotich"
set "PROFILE=%USERPROFILE%\Documents\thu-hotich\ho-so-xa.toml"

set "PROFILE_OPTION="
if exist "%PROFILE%" set "PROFILE_OPTION=--profile "%PROFILE%""

where cchc-letters >nul 2>nul
if %errorlevel%==0 (
  cchc-letters serve --out "%OUT%" %PROFILE_OPTION%
) else (
  py -m cchc_letters serve --out "%OUT%" %PROFILE_OPTION%
)
if errorlevel 1 pause
