; Inno Setup (6.3 or newer) script for the Lanban installer. packaging/build.py windows runs it after
; PyInstaller, passing the version from pyproject.toml:
;   iscc /DAppVersion=X.Y.Z packaging\windows\lanban.iss
; Installs dist\lanban\ for the current user (no administrator needed; the installer
; offers an all-users install too), with a Start-menu shortcut to lanbanw.exe, the app
; without a console window. Boards live in %LOCALAPPDATA%\lanban and survive uninstalling.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z lanban.iss (packaging/build.py does)
#endif
#define Root "..\.."

[Setup]
; Never change the AppId: Windows uses it to find an installed Lanban to upgrade.
AppId={{FA59116B-9DFB-4915-8BAD-FA6BDFF52457}
AppName=Lanban
AppVersion={#AppVersion}
AppVerName=Lanban {#AppVersion}
AppPublisher=The Lanban team
DefaultDirName={autopf}\Lanban
DefaultGroupName=Lanban
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\dist
OutputBaseFilename=lanban-{#AppVersion}-windows-x86_64-setup
SetupIconFile={#Root}\resources\app-icon\lanban.ico
UninstallDisplayIcon={app}\lanbanw.exe
UninstallDisplayName=Lanban
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole app folder, so no file of an older version lingers.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#Root}\dist\lanban\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Lanban"; Filename: "{app}\lanbanw.exe"; Comment: "A kanban board for small teams on one network"
Name: "{autodesktop}\Lanban"; Filename: "{app}\lanbanw.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\lanbanw.exe"; Description: "{cm:LaunchProgram,Lanban}"; Flags: nowait postinstall skipifsilent
